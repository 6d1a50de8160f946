"""A real SMTP server for the test suites (aiosmtpd), started by jikimi-testkit's `TestSmtp`.

    python3 smtp_server.py --port P --dir D [--mode plain|starttls|implicit
        --tls-cert C --tls-key K] [--auth-user U --auth-password PW]

Listens on 127.0.0.1:P. Every accepted message is written atomically to D/messages/ as JSON
(`{"mail_from", "rcpt_tos", "data", "data_encoding"}`), named so that sorting by name gives arrival
order. While D/refuse exists every RCPT TO (and DATA) is answered `451 4.3.0 Try again later`; while
D/reject exists, `550 5.1.1 Mailbox unavailable`. Writes D/ready once listening; exits cleanly on
SIGTERM/SIGINT, when its parent process goes away, or when D is removed. Prints nothing of the
messages it receives.

Exit codes: 0 stopped, 2 bad arguments or TLS files, 3 the port is taken, 4 any other start failure.
"""

import argparse
import errno
import hmac
import json
import logging
import os
import signal
import ssl
import sys
import threading
import uuid
import warnings

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword
except ImportError as e:  # pragma: no cover - reported to the Rust side
    print(f"smtp_server.py: {e}: apt-get install python3-aiosmtpd", file=sys.stderr)
    sys.exit(2)

REFUSE = "451 4.3.0 Try again later"
REJECT = "550 5.1.1 Mailbox unavailable"


class Handler:
    def __init__(self, root):
        self.root = root
        self.messages = os.path.join(root, "messages")
        self.tmp = os.path.join(root, "tmp")
        os.makedirs(self.messages, exist_ok=True)
        os.makedirs(self.tmp, exist_ok=True)
        # Go on from the files a previous run left (restart on the same directory).
        seq = 0
        for name in os.listdir(self.messages):
            head = name.split("-", 1)[0]
            if name.endswith(".json") and head.isdigit():
                seq = max(seq, int(head))
        self.seq = seq

    def refusal(self):
        """The answer while the test asks for refusals, checked anew at each command."""
        if os.path.exists(os.path.join(self.root, "refuse")):
            return REFUSE
        if os.path.exists(os.path.join(self.root, "reject")):
            return REJECT
        return None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refusal = self.refusal()
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        refusal = self.refusal()
        if refusal:
            return refusal
        raw = envelope.original_content
        if isinstance(raw, str):
            data, encoding = raw, "utf-8"
        else:
            try:
                data, encoding = raw.decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                data, encoding = raw.decode("latin-1"), "latin-1"
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": data,
            "data_encoding": encoding,
        }
        self.seq += 1
        name = f"{self.seq:010d}-{uuid.uuid4().hex}.json"
        tmp = os.path.join(self.tmp, name)
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=True)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(self.messages, name))
        return "250 2.0.0 OK: queued as " + name[:-5]


def make_authenticator(user, password):
    user_b, password_b = user.encode("utf-8"), password.encode("utf-8")

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            mechanism in ("LOGIN", "PLAIN")
            and isinstance(auth_data, LoginPassword)
            and hmac.compare_digest(auth_data.login, user_b)
            and hmac.compare_digest(auth_data.password, password_b)
        )
        return AuthResult(success=ok, handled=False)

    return authenticator


def write_ready(root, port):
    tmp = os.path.join(root, "tmp", "ready")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(f"{port} {os.getpid()}\n")
    os.rename(tmp, os.path.join(root, "ready"))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--mode", choices=["plain", "starttls", "implicit"], default="plain")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--auth-user")
    p.add_argument("--auth-password")
    args = p.parse_args()

    # aiosmtpd logs on "mail.log"; keep it quiet (it never logs message contents at these levels).
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    logging.getLogger("mail.log").addHandler(logging.NullHandler())
    # Plain mode with AUTH is deliberate here (a loopback test server).
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")

    root = os.path.abspath(args.dir)
    handler = Handler(root)

    kwargs = {"hostname": "127.0.0.1", "port": args.port, "server_hostname": "localhost"}
    if args.mode != "plain":
        if not (args.tls_cert and args.tls_key):
            print("smtp_server.py: --mode needs --tls-cert and --tls-key", file=sys.stderr)
            return 2
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            ctx.load_cert_chain(args.tls_cert, args.tls_key)
        except (OSError, ssl.SSLError) as e:
            print(f"smtp_server.py: the TLS certificate or key: {e}", file=sys.stderr)
            return 2
        if args.mode == "starttls":
            kwargs["tls_context"] = ctx
            kwargs["require_starttls"] = True
        else:
            kwargs["ssl_context"] = ctx
    if args.auth_user is not None:
        if args.auth_password is None:
            print("smtp_server.py: --auth-user needs --auth-password", file=sys.stderr)
            return 2
        kwargs["authenticator"] = make_authenticator(args.auth_user, args.auth_password)
        kwargs["auth_required"] = True
        # aiosmtpd knows of STARTTLS only; implicit TLS is encrypted from the first byte.
        kwargs["auth_require_tls"] = args.mode == "starttls"

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    controller = Controller(handler, **kwargs)
    try:
        controller.start()
    except OSError as e:
        print(f"smtp_server.py: cannot listen on 127.0.0.1:{args.port}: {e}", file=sys.stderr)
        return 3 if e.errno == errno.EADDRINUSE else 4
    except Exception as e:  # noqa: BLE001 - reported to the Rust side
        print(f"smtp_server.py: start failed: {e!r}", file=sys.stderr)
        return 4

    parent = os.getppid()
    try:
        write_ready(root, args.port)
        while not stop.wait(0.2):
            if os.getppid() != parent or not os.path.isdir(root):
                break
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
