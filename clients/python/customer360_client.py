"""A small typed client for Customer 360's gRPC services.

Uses the code that generate.sh writes into ./gen (run it first; run-smoke.sh does) and the standard health stubs of
grpcio-health-checking, which serve the same contract as our vendored Proto/grpc/health/v1/health.proto.

    with connect("127.0.0.1:50051") as client:
        customer = client.create_customer(email="ada@example.com", given_name="Ada")
        same = client.get_customer(customer.customer_id)
        assert client.health_check() == SERVING
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import TracebackType
from typing import Optional, Type

GEN_DIR = Path(__file__).resolve().parent / "gen"

if not (GEN_DIR / "customer360" / "v1" / "profile_pb2.py").is_file():
    raise ImportError(f"no generated code in {GEN_DIR}: run clients/python/generate.sh first")
if str(GEN_DIR) not in sys.path:
    # The generated modules import each other as customer360.v1.*, so gen/ must be an import root.
    sys.path.insert(0, str(GEN_DIR))

import grpc  # noqa: E402
from customer360.v1 import profile_pb2, profile_pb2_grpc  # noqa: E402
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402

# Health statuses, re-exported so callers need not import the health stubs.
SERVING: int = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING: int = health_pb2.HealthCheckResponse.NOT_SERVING

# The fully qualified name of the profile service, as the health service knows it.
PROFILE_SERVICE = "customer360.v1.ProfileService"

__all__ = [
    "Customer360Client",
    "connect",
    "identifier_value",
    "profile_pb2",
    "health_pb2",
    "SERVING",
    "NOT_SERVING",
    "PROFILE_SERVICE",
]


class Customer360Client:
    """One channel to a Customer 360 process, with a deadline on every call.

    Errors are raised as grpc.RpcError; read the status with error.code() and the message with error.details().
    """

    def __init__(self, channel: grpc.Channel, timeout: float = 5.0) -> None:
        self._channel = channel
        self._timeout = timeout
        self._profiles = profile_pb2_grpc.ProfileServiceStub(channel)
        self._health = health_pb2_grpc.HealthStub(channel)

    # MARK: - Lifecycle

    def wait_until_ready(self, timeout: float = 10.0) -> None:
        """Blocks until the channel is connected; raises grpc.FutureTimeoutError after `timeout` seconds."""
        grpc.channel_ready_future(self._channel).result(timeout=timeout)

    def close(self) -> None:
        """Closes the channel; calls in flight are cancelled."""
        self._channel.close()

    def __enter__(self) -> "Customer360Client":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()

    # MARK: - ProfileService

    def create_customer(
        self,
        *,
        email: Optional[str] = None,
        phone: Optional[str] = None,
        crm_id: Optional[str] = None,
        given_name: str = "",
        family_name: str = "",
        tags: Optional[list[str]] = None,
    ) -> profile_pb2.Customer:
        """Creates a customer with the given identifiers and names; the server normalises the identifiers."""
        identifiers = []
        if email is not None:
            identifiers.append(profile_pb2.Identifier(kind=profile_pb2.IDENTIFIER_KIND_EMAIL, value=email))
        if phone is not None:
            identifiers.append(profile_pb2.Identifier(kind=profile_pb2.IDENTIFIER_KIND_PHONE, value=phone))
        if crm_id is not None:
            identifiers.append(profile_pb2.Identifier(kind=profile_pb2.IDENTIFIER_KIND_CRM_ID, value=crm_id))
        request = profile_pb2.CreateCustomerRequest(
            identifiers=identifiers,
            given_name=given_name,
            family_name=family_name,
            tags=tags or [],
        )
        return self._profiles.CreateCustomer(request, timeout=self._timeout)

    def get_customer(self, customer_id: str) -> profile_pb2.Customer:
        """Gets one customer by id (a merged-away id answers the survivor with resolved_from set)."""
        request = profile_pb2.GetCustomerRequest(customer_id=customer_id)
        return self._profiles.GetCustomer(request, timeout=self._timeout)

    # MARK: - Health

    def lookup_customer(self, email: str = "", phone: str = "", crm_id: str = "") -> profile_pb2.Customer:
        """Finds a customer by one external identifier (normalised by the server, so any spelling works)."""
        if sum(bool(value) for value in (email, phone, crm_id)) != 1:
            raise ValueError("give exactly one of email, phone, crm_id")
        kind, value = (
            (profile_pb2.IDENTIFIER_KIND_EMAIL, email) if email
            else (profile_pb2.IDENTIFIER_KIND_PHONE, phone) if phone
            else (profile_pb2.IDENTIFIER_KIND_CRM_ID, crm_id)
        )
        request = profile_pb2.LookupCustomerRequest(identifier=profile_pb2.Identifier(kind=kind, value=value))
        return self._profiles.LookupCustomer(request, timeout=self._timeout)

    def get_consents(self, customer_id: str) -> profile_pb2.GetConsentsResponse:
        """The customer's current consent decision for every purpose and channel."""
        return self._profiles.GetConsents(
            profile_pb2.GetConsentsRequest(customer_id=customer_id), timeout=self._timeout
        )

    def health_check(self, service: str = "") -> int:
        """The serving status of `service` ("" for the whole server): SERVING, NOT_SERVING, ...

        An unknown service raises grpc.RpcError with StatusCode.NOT_FOUND.
        """
        request = health_pb2.HealthCheckRequest(service=service)
        return self._health.Check(request, timeout=self._timeout).status


def connect(address: str, timeout: float = 5.0) -> Customer360Client:
    """Opens a plaintext channel to `address` ("host:port"); `timeout` is the deadline of each call in seconds.

    HTTP proxies from the environment are ignored: the services are reached directly.
    """
    channel = grpc.insecure_channel(address, options=[("grpc.enable_http_proxy", 0)])
    return Customer360Client(channel, timeout=timeout)


def identifier_value(customer: profile_pb2.Customer, kind: int) -> Optional[str]:
    """The value of the customer's first identifier of `kind` (e.g. profile_pb2.IDENTIFIER_KIND_EMAIL), if any."""
    for identifier in customer.identifiers:
        if identifier.kind == kind:
            return identifier.value
    return None
