"""TLS for the client's channel: which CA to trust, and a client certificate
for servers that require one (mTLS, `AUTH_TLS_CLIENT_CA`)."""

from dataclasses import dataclass
from typing import Optional

import grpc


@dataclass(frozen=True)
class TlsOptions:
    """PEM file paths. ca_file None trusts the system CAs (gRPC's bundled
    roots, or GRPC_DEFAULT_SSL_ROOTS_FILE_PATH). cert_file and key_file go
    together. server_name overrides the name checked against the server's
    certificate (when the target is an address the certificate lacks)."""

    ca_file: Optional[str] = None
    cert_file: Optional[str] = None
    key_file: Optional[str] = None
    server_name: Optional[str] = None

    def __post_init__(self):
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("TlsOptions: cert_file and key_file go together")

    def channel_credentials(self):
        """Read the files now; OSError names a file that cannot be read."""
        return grpc.ssl_channel_credentials(
            root_certificates=_read(self.ca_file),
            private_key=_read(self.key_file),
            certificate_chain=_read(self.cert_file))

    def channel_options(self):
        if self.server_name is None:
            return []
        return [("grpc.ssl_target_name_override", self.server_name)]


def _read(path):
    if path is None:
        return None
    with open(path, "rb") as file:
        return file.read()
