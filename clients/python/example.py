"""Looks a customer up by email and prints their profile, consents, and what interaction- and feedback-service know.

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
    parser.add_argument("--interaction-address", default="127.0.0.1:50052",
                        help="interaction-service host:port ('' to skip)")
    parser.add_argument("--feedback-address", default="127.0.0.1:50053",
                        help="feedback-service host:port ('' to skip)")
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
    if args.interaction_address:
        print_interactions(args.interaction_address, customer.customer_id)
    if args.feedback_address:
        print_feedback(args.feedback_address, customer.customer_id)
    return 0


def print_interactions(address: str, customer_id: str) -> None:
    """Engagement, commerce, support and best contact time in one call (GetCustomerStats)."""
    from customer360.v1 import interaction_pb2, interaction_pb2_grpc

    with grpc.insecure_channel(address) as channel:
        stub = interaction_pb2_grpc.InteractionServiceStub(channel)
        stats = stub.GetCustomerStats(interaction_pb2.GetCustomerStatsRequest(customer_id=customer_id), timeout=5)
    windows = ", ".join(f"{w.touchpoints} in {w.days} days" for w in stats.engagement.windows)
    commerce = stats.commerce
    segment = interaction_pb2.RfmSegment.Name(commerce.rfm.segment)
    print(f"engagement: {stats.engagement.total_touchpoints} touchpoints ({windows})")
    print(f"commerce: {commerce.orders} orders, net {commerce.net_revenue.amount_minor / 100:.2f} "
          f"{commerce.net_revenue.currency_code}, RFM {commerce.rfm.recency}{commerce.rfm.frequency}"
          f"{commerce.rfm.monetary} {segment}")
    print(f"support: {stats.support.tickets_opened} tickets, {stats.support.tickets_open} open")
    best = stats.best_contact
    if best.HasField("best_hour_of_week"):
        day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][best.best_hour_of_week // 24]
        channel = common_pb2.Channel.Name(best.best_channel)
        print(f"best contact: {channel}, {day} {best.best_hour_of_week % 24:02d}:00 UTC")


def print_feedback(address: str, customer_id: str) -> None:
    """Latest NPS / CSAT / CES with their trend, and the sentiment of the customer's comments."""
    from customer360.v1 import feedback_pb2, feedback_pb2_grpc

    with grpc.insecure_channel(address) as channel:
        stub = feedback_pb2_grpc.FeedbackServiceStub(channel)
        scores = stub.GetCustomerScores(feedback_pb2.GetCustomerScoresRequest(customer_id=customer_id), timeout=5)
    for name in ("nps", "csat", "ces"):
        if scores.HasField(name):
            score = getattr(scores, name)
            trend = feedback_pb2.ScoreTrend.Name(score.trend).removeprefix("SCORE_TREND_").lower()
            print(f"{name.upper()}: latest {score.latest_score} of {score.responses} answers ({trend})")
    if scores.HasField("sentiment"):
        latest = scores.sentiment.latest
        label = feedback_pb2.SentimentLabel.Name(latest.label).removeprefix("SENTIMENT_LABEL_").lower()
        print(f"comments: {scores.sentiment.comments}, latest {label} ({latest.score:+.2f}, {latest.language})")
    if scores.responses == 0:
        print("feedback: no survey answers yet")


if __name__ == "__main__":
    raise SystemExit(main())
