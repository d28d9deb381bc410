"""Prints the current TOTP code (RFC 6238: SHA-1, 6 digits, 30 s) for a Base32 secret; the
benchmark suite uses it to log the demo caseworker in."""
import base64, hashlib, hmac, struct, sys, time

secret = base64.b32decode(sys.argv[1].replace(" ", "").upper() + "=" * (-len(sys.argv[1].replace(" ", "")) % 8))
mac = hmac.new(secret, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
offset = mac[-1] & 0x0F
print("%06d" % ((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000))
