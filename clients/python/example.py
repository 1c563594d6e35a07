"""Looks a customer up by email in a running profile-service and prints their profile and consents.

    clients/python/setup.sh
    clients/python/.venv/bin/python clients/python/example.py ada@example.com
    clients/python/.venv/bin/python clients/python/example.py --address 127.0.0.1:50051 sara.ahmadi@example.ir
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import grpc  # noqa: E402
from customer360_client import connect, profile_pb2  # noqa: E402
from customer360.v1 import common_pb2  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("email", help="the customer's email address (any case)")
    parser.add_argument("--address", default="127.0.0.1:50051", help="profile-service host:port")
    args = parser.parse_args()
    with connect(args.address) as client:
        try:
            customer = client.lookup_customer(email=args.email)
        except grpc.RpcError as error:
            print(f"{error.code().name}: {error.details()}", file=sys.stderr)
            return 1
        print(customer)
        consents = client.get_consents(customer.customer_id)
        for consent in consents.consents:
            purpose = profile_pb2.ConsentPurpose.Name(consent.purpose)
            status = profile_pb2.ConsentStatus.Name(consent.status)
            channel = common_pb2.Channel.Name(consent.channel)
            print(f"consent {purpose} via {channel}: {status} ({consent.source})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
