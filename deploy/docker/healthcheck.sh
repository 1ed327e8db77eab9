#!/bin/sh
# Container health check of the tollgate image: exit 0 when the service in
# this container answers SERVING to a gRPC health check of the whole server
# (`tollgate health`, grpc.health.v1.Health/Check of ""), on the port of
# AUTH_LISTEN (auth_service) or SUM_LISTEN (sum_service), their defaults when
# unset. A wildcard host is probed on 127.0.0.1; a unix: address as it is.
# With TLS on the gRPC port, give the CLI its CA (TOLLGATE_TLS_CA, and
# TOLLGATE_TLS_CERT/TOLLGATE_TLS_KEY for mTLS) in the container's
# environment and TOLLGATE_HEALTHCHECK_ADDR, a name the certificate holds.
case "$(tr '\0' ' ' </proc/1/cmdline 2>/dev/null)" in
  *auth_service*) listen="${AUTH_LISTEN:-0.0.0.0:50051}" ;;
  *sum_service*) listen="${SUM_LISTEN:-0.0.0.0:50052}" ;;
  *) listen="${AUTH_LISTEN:-${SUM_LISTEN:-}}" ;;
esac
if [ -z "$listen" ]; then
  echo "tollgate-healthcheck: neither auth_service nor sum_service runs here; set AUTH_LISTEN or SUM_LISTEN" >&2
  exit 1
fi
case "$listen" in
  unix:*) addr="$listen" ;;
  *)
    host="${listen%:*}"
    case "$host" in
      ''|0.0.0.0|'[::]'|'::') host=127.0.0.1 ;;
    esac
    addr="$host:${listen##*:}"
    ;;
esac
exec tollgate health --addr "${TOLLGATE_HEALTHCHECK_ADDR:-$addr}" --timeout 2
