#!/usr/bin/env python3
"""Sign a critical request's pre-command with your own key, for people without a browser.

    python scripts/sign_precommand.py --key SUPA-command-signing.key.pem precommand.xml
    curl -s .../requests/42/precommand/ | jq -r .precommand | python scripts/sign_precommand.py --key k.pem -

Reads the pre-command (a file, or - for standard input) and prints the base64 ECDSA P-256 SHA-256
signature (DER) of its exact bytes, to post as {"signature": ...} or paste on the request page.
The bytes signed are the UTF-8 text exactly as the portal serves it (adapter/signing.py): a file is
signed as it is, byte for byte; ``--strip-newline`` drops the one trailing newline a shell pipe
such as ``jq -r`` adds. Needs only the ``cryptography`` package; the key never leaves your machine.
"""
from __future__ import annotations

import argparse
import base64
import sys
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def sign(key_pem: bytes, payload: bytes, password: bytes | None = None) -> str:
    key = serialization.load_pem_private_key(key_pem, password=password)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("the key must be ECDSA on P-256 (secp256r1)")
    return base64.b64encode(key.sign(payload, ec.ECDSA(hashes.SHA256()))).decode("ascii")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sign a DUIS pre-command with your ECDSA P-256 key.")
    parser.add_argument("precommand", help="file holding the pre-command, or - for standard input")
    parser.add_argument("--key", required=True, type=Path, help="your private key (PEM, PKCS#8 or SEC1)")
    parser.add_argument("--password-file", type=Path, help="file holding the key's password, if encrypted")
    parser.add_argument("--strip-newline", action="store_true", help="drop one trailing newline of the input")
    args = parser.parse_args(argv)
    payload = sys.stdin.buffer.read() if args.precommand == "-" else Path(args.precommand).read_bytes()
    if args.strip_newline and payload.endswith(b"\n"):
        payload = payload[:-1]
    password = args.password_file.read_bytes().strip() if args.password_file else None
    try:
        print(sign(args.key.read_bytes(), payload, password))
    except (ValueError, TypeError) as exc:
        print(f"sign_precommand: {args.key}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
