"""Pages of the health app (the API lives in health.api): applicants to examine, issuing,
certificates and their printable page, signing keys, the public verification page and the
published trust and revocation lists."""
