"""Socket option numbers the stdlib lacks, and setting the options that decide a bind, shared
by sockmaker.py and bindcheck.py (both run as scripts, so this sibling module imports)."""

import socket

SOL_IP = 0
SOL_IPV6 = 41
IP_TRANSPARENT = 19
IP_FREEBIND = 15
IPV6_TRANSPARENT = 75
IPV6_FREEBIND = 78
SO_REUSEPORT = 15
SO_BINDTODEVICE = 25


def set_bind_options(s, v6, reuseaddr=False, reuseport=False, v6only=None, freebind=False,
                     transparent=False, device=None):
    """Sets what decides a bind, before bind(); an unset option is left at the default."""
    if reuseaddr:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuseport:
        s.setsockopt(socket.SOL_SOCKET, SO_REUSEPORT, 1)
    if v6 and v6only is not None:
        s.setsockopt(SOL_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
    if freebind:
        s.setsockopt(*((SOL_IPV6, IPV6_FREEBIND) if v6 else (SOL_IP, IP_FREEBIND)), 1)
    if transparent:
        s.setsockopt(*((SOL_IPV6, IPV6_TRANSPARENT) if v6 else (SOL_IP, IP_TRANSPARENT)), 1)
    if device:
        s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, device.encode())
