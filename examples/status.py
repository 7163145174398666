"""Print the kernel's audit status and turn auditing on, with typed errors."""

from __future__ import annotations

from auditlink import AuditClient, AuditError, AuditStatus, WaitMode


def show() -> AuditStatus:
    with AuditClient() as client:
        status = client.get_status()
        print(f"enabled={status.enabled} pid={status.pid} lost={status.lost}")
        return status


def enable_quietly() -> None:
    with AuditClient() as client:
        try:
            client.set_enabled(True, WaitMode.NO_WAIT)
            client.set_backlog_limit(8192, WaitMode.NO_WAIT)
            client.wait_for_pending_acks()
        except PermissionError:
            print("need root or CAP_AUDIT_CONTROL")
        except AuditError as e:
            print(f"kernel said {e.strerror} during {e.operation} (seq {e.seq})")


if __name__ == "__main__":
    show()
