"""Smoke test: a Python gRPC client against the built profile-service binary.

Starts profile-service on a free port with a temporary data directory, checks identifier normalisation, error
codes, health and a clean exit on SIGTERM, and prints `smoke: N passed, M failed` last. Exits 1 on any failure.

The binary is found in $C360_BIN_DIR, else in the directory `swift build --show-bin-path` prints in the repository
root (that only prints the path; it does not compile). Build first: `swift build`.

    clients/python/run-smoke.sh        # creates the venv, installs, generates, runs this
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

import grpc

from customer360_client import (
    PROFILE_SERVICE,
    SERVING,
    Customer360Client,
    connect,
    identifier_value,
    profile_pb2,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
EXECUTABLE = "profile-service"
STARTUP_TIMEOUT = 30.0
SHUTDOWN_TIMEOUT = 15.0
POLL_INTERVAL = 0.02

EMAIL = "Ada@Example.COM"
PHONE = "+98 912 345 6789"


class SmokeFailure(Exception):
    """A check's expectation did not hold."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def expect_status(call: Callable[[], object], code: grpc.StatusCode) -> None:
    """Runs `call` and requires it to fail with `code`."""
    try:
        result = call()
    except grpc.RpcError as error:
        expect(error.code() == code, f"expected {code.name}, got {error.code().name}: {error.details()}")
        return
    raise SmokeFailure(f"expected {code.name}, but the call succeeded with {result!r}")


def describe(error: Exception) -> str:
    """A one-line reason: the status code and details of an RPC error, else the message."""
    if isinstance(error, grpc.RpcError) and isinstance(error, grpc.Call):
        return f"{error.code().name}: {error.details()}"
    return f"{type(error).__name__}: {error}" if not isinstance(error, SmokeFailure) else str(error)


# MARK: - The process


def find_binary() -> Path:
    bin_dir = os.environ.get("C360_BIN_DIR")
    if not bin_dir:
        try:
            bin_dir = subprocess.run(
                ["swift", "build", "--show-bin-path", "--ignore-lock"],
                cwd=REPO_ROOT,
                check=True,
                capture_output=True,
                text=True,
                timeout=300,
            ).stdout.strip().splitlines()[-1]
        except (OSError, subprocess.SubprocessError, IndexError) as error:
            raise SmokeFailure(f"cannot ask swift for the bin path ({error}); set C360_BIN_DIR") from error
    binary = Path(bin_dir) / EXECUTABLE
    if not os.access(binary, os.X_OK):
        raise SmokeFailure(f"{binary} is not built: run `swift build` first (or set C360_BIN_DIR)")
    return binary


class Service:
    """profile-service running on a free port with its own temporary directory."""

    def __init__(self, binary: Path) -> None:
        self.work_dir = Path(tempfile.mkdtemp(prefix="c360-smoke-"))
        self.data_dir = self.work_dir / "data"
        self.data_dir.mkdir()
        self.port_file = self.work_dir / "port"
        self.log_file = self.work_dir / f"{EXECUTABLE}.log"
        with open(self.log_file, "wb") as log:
            self.process = subprocess.Popen(
                [
                    str(binary),
                    "--host", "127.0.0.1",
                    "--port", "0",
                    "--port-file", str(self.port_file),
                    "--data-dir", str(self.data_dir),
                    "--log-level", "info",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.work_dir,
            )
        try:
            self.port = self._wait_for_port()
        except BaseException:
            self.stop()  # the error already quotes the log's tail
            shutil.rmtree(self.work_dir, ignore_errors=True)
            raise

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _wait_for_port(self) -> int:
        """Polls the port file (written atomically, ending in a newline) until it holds the bound port."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                text = self.port_file.read_text()
                if text.endswith("\n") and text.strip().isdigit():
                    return int(text.strip())
            except FileNotFoundError:
                pass
            if self.process.poll() is not None:
                raise SmokeFailure(
                    f"{EXECUTABLE} exited with {self.process.returncode} before writing its port:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise SmokeFailure(f"{EXECUTABLE} wrote no port within {STARTUP_TIMEOUT:.0f} s:\n{self.log_tail()}")
            time.sleep(POLL_INTERVAL)

    def terminate(self) -> int:
        """Sends SIGTERM and returns the exit code (negative: the signal that ended it)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise SmokeFailure(f"{EXECUTABLE} still running {SHUTDOWN_TIMEOUT:.0f} s after SIGTERM; killed it")

    def stop(self) -> None:
        """Kills the process if it still runs."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def wait_until_serving(client: Customer360Client, timeout: float = 10.0) -> None:
    """Readiness: the port file appears a moment before the server reports SERVING."""
    client.wait_until_ready(timeout=timeout)
    deadline = time.monotonic() + timeout
    while True:
        try:
            if client.health_check("") == SERVING:
                return
        except grpc.RpcError:
            pass
        if time.monotonic() > deadline:
            raise SmokeFailure(f"health check '' did not answer SERVING within {timeout:.0f} s")
        time.sleep(POLL_INTERVAL)


# MARK: - The checks


class Checks:
    def __init__(self, service: Service, client: Customer360Client) -> None:
        self.service = service
        self.client = client
        self.customer_id: Optional[str] = None

    def expect_normalised(self, customer: profile_pb2.Customer) -> None:
        email = identifier_value(customer, profile_pb2.IDENTIFIER_KIND_EMAIL)
        phone = identifier_value(customer, profile_pb2.IDENTIFIER_KIND_PHONE)
        expect(email == "ada@example.com", f"email should come back lower-cased, got {email!r}")
        expect(phone == "+989123456789", f"phone should come back as E.164 +989123456789, got {phone!r}")
        expect(customer.given_name == "Ada", f"given_name should be 'Ada', got {customer.given_name!r}")

    def create_normalises_identifiers(self) -> None:
        customer = self.client.create_customer(email=EMAIL, phone=PHONE, given_name="Ada")
        expect(customer.customer_id != "", "CreateCustomer returned no customer_id")
        self.customer_id = customer.customer_id
        self.expect_normalised(customer)

    def get_returns_the_same_customer(self) -> None:
        expect(self.customer_id is not None, "no customer was created")
        assert self.customer_id is not None
        customer = self.client.get_customer(self.customer_id)
        expect(customer.customer_id == self.customer_id, f"asked for {self.customer_id}, got {customer.customer_id}")
        self.expect_normalised(customer)

    def duplicate_email_is_already_exists(self) -> None:
        expect_status(
            lambda: self.client.create_customer(email=EMAIL, given_name="Ada again"),
            grpc.StatusCode.ALREADY_EXISTS,
        )

    def malformed_id_is_invalid_argument(self) -> None:
        expect_status(lambda: self.client.get_customer("not-a-customer-id"), grpc.StatusCode.INVALID_ARGUMENT)

    def health_is_serving(self) -> None:
        for name in ("", PROFILE_SERVICE):
            status = self.client.health_check(name)
            expect(status == SERVING, f"health of {name!r} should be SERVING, got {status}")

    def sigterm_exits_zero(self) -> None:
        self.client.close()
        code = self.service.terminate()
        expect(code == 0, f"exit code after SIGTERM should be 0, got {code}:\n{self.service.log_tail()}")


def main() -> int:
    passed, failed = 0, 0
    service: Optional[Service] = None
    try:
        service = Service(find_binary())
        print(f"smoke: {EXECUTABLE} listening on {service.address} (log {service.log_file})", flush=True)
        client = connect(service.address)
        wait_until_serving(client)
        checks = Checks(service, client)
        for name, check in [
            ("CreateCustomer normalises email and phone", checks.create_normalises_identifiers),
            ("GetCustomer returns the same customer", checks.get_returns_the_same_customer),
            ("CreateCustomer with a taken email is ALREADY_EXISTS", checks.duplicate_email_is_already_exists),
            ("GetCustomer with a malformed id is INVALID_ARGUMENT", checks.malformed_id_is_invalid_argument),
            ("Health Check '' and ProfileService are SERVING", checks.health_is_serving),
            ("SIGTERM drains and exits 0", checks.sigterm_exits_zero),
        ]:
            try:
                check()
            except Exception as error:  # noqa: BLE001 - every failure is reported, then the next check runs
                failed += 1
                print(f"FAIL  {name}: {describe(error)}", flush=True)
            else:
                passed += 1
                print(f"ok    {name}", flush=True)
    except Exception as error:  # noqa: BLE001 - reported, and the summary line still follows
        failed += 1
        print(f"FAIL  start-up: {describe(error)}", flush=True)
    finally:
        if service is not None:
            service.stop()
            if failed:
                print(f"--- {EXECUTABLE} log tail ({service.log_file}) ---\n{service.log_tail()}", flush=True)
            else:
                shutil.rmtree(service.work_dir, ignore_errors=True)

    print(f"smoke: {passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
