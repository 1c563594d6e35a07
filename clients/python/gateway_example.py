"""Asks the gateway for one customer's 360° view, found by email, with the admin key from the launcher.

    clients/python/.venv/bin/python clients/python/gateway_example.py \
        --key-file data/gateway/bootstrap-admin.key amir.jafari@example.ir
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "gen"))

import grpc  # noqa: E402
from customer360.v1 import gateway_pb2, gateway_pb2_grpc, profile_pb2, success_pb2  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("email", help="the customer's email address")
    parser.add_argument("--address", default="127.0.0.1:50050", help="gateway host:port")
    parser.add_argument("--key-file", required=True, help="file holding an API key secret")
    args = parser.parse_args()
    secret = Path(args.key_file).read_text().strip()
    metadata = [("authorization", f"Bearer {secret}")]
    with grpc.insecure_channel(args.address) as channel:
        gateway = gateway_pb2_grpc.GatewayServiceStub(channel)
        identifier = profile_pb2.Identifier(kind=profile_pb2.IDENTIFIER_KIND_EMAIL, value=args.email)
        try:
            view = gateway.GetCustomer360(gateway_pb2.GetCustomer360Request(identifier=identifier),
                                          metadata=metadata, timeout=5)
        except grpc.RpcError as error:
            print(f"{error.code().name}: {error.details()}", file=sys.stderr)
            return 1
    profile = view.profile
    print(f"{profile.given_name} {profile.family_name} ({view.customer_id}), {profile_pb2.LifecycleStage.Name(profile.lifecycle_stage)}")
    print(f"timeline: {len(view.recent_timeline)} recent touchpoints, {view.engagement.total_touchpoints} in all")
    if view.HasField("feedback") and view.feedback.HasField("nps"):
        print(f"NPS: latest {view.feedback.nps.latest_score}")
    if view.HasField("health"):
        band = success_pb2.HealthBand.Name(view.health.band).removeprefix("HEALTH_BAND_").lower()
        print(f"health: {view.health.score:.1f} ({band})")
    print(f"open alerts: {len(view.open_alerts)}; success plans: {len(view.success_plans)}")
    for status in view.section_statuses:
        state = "ok" if status.ok else f"{status.error_code}: {status.error_message}"
        print(f"  {status.section:14} {status.service:20} {status.latency.ToMilliseconds():4d} ms  {state}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
