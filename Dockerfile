# tollgate images, from Debian 12 (debian:12; scripts/compose_test.sh makes it
# locally when no registry can be reached).
#
#   docker build -t tollgate .                       # the services (target runtime)
#   docker build -t tollgate-postgres --target postgres .
#   docker build -t tollgate-balancer --target balancer .   # HAProxy (scale-out)
#
# The build stage runs the same scripts/install_deps.sh and scripts/build.sh
# as the README, for the three binaries only. Mount a ccache directory at
# /ccache to reuse compilations (podman build --volume ~/.cache/ccache:/ccache):
# the sources sit under /work like the checkouts that filled it, and
# CCACHE_BASEDIR makes the paths relative, so their entries hit.

FROM debian:12 AS build
ARG TOLLGATE_JOBS=2
WORKDIR /work/tollgate
COPY scripts/install_deps.sh scripts/
RUN scripts/install_deps.sh --build-only \
 && rm -rf /var/lib/apt/lists/*
COPY . .
# ccache hashes LANG: the value of the hosts that fill the cache.
ENV CCACHE_DIR=/ccache CCACHE_BASEDIR=/work CCACHE_NOHASHDIR=1 LANG=C.UTF-8
RUN TOLLGATE_SKIP_DEPS=1 TOLLGATE_JOBS="$TOLLGATE_JOBS" \
    TOLLGATE_TARGETS="auth_service sum_service tollgate" \
    scripts/build.sh -DTOLLGATE_BENCH=OFF -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
# /out: the binaries (stripped) and every shared library they load, at the
# paths they have here (/lib resolved to /usr/lib: merged /usr), except
# glibc's, which the runtime base has already.
RUN set -eu; \
    install -d /out/usr/local/bin; \
    for b in build/auth_service/auth_service build/sum_service/sum_service build/client/tollgate; do \
      strip -o "/out/usr/local/bin/$(basename "$b")" "$b"; \
    done; \
    install -m 0755 deploy/docker/healthcheck.sh /out/usr/local/bin/tollgate-healthcheck; \
    cp /usr/bin/openssl /out/usr/local/bin/; \
    ldd /out/usr/local/bin/* 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u \
      | grep -Ev '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*)\.so' \
      | while read -r lib; do \
          dir="$(readlink -f "$(dirname "$lib")")"; install -d "/out$dir"; cp -L "$lib" "/out$dir/"; \
        done

# The services: auth_service, sum_service and the tollgate CLI, run as an
# unprivileged user. The command picks the service (see docker-compose.yml).
FROM debian:12 AS runtime
COPY --from=build /out/ /
RUN ldconfig \
 && useradd --system --uid 10001 --user-group --home-dir /nonexistent --shell /usr/sbin/nologin tollgate \
 && install -d -o tollgate -g tollgate -m 0700 /keys
USER tollgate
EXPOSE 50051 50052 9091 9092
# Healthy when the service's gRPC health answers SERVING for the whole server
# (tollgate health on the port of AUTH_LISTEN or SUM_LISTEN).
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 CMD ["tollgate-healthcheck"]
CMD ["auth_service", "--help"]

# PostgreSQL 15 from Debian, for docker-compose.yml: the database and its
# role are made on the first start from POSTGRES_USER, POSTGRES_PASSWORD and
# POSTGRES_DB, with password (SCRAM) logins over TCP.
FROM debian:12 AS postgres
RUN install -d /etc/postgresql-common \
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf \
 && apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/data
COPY deploy/docker/postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
USER postgres
EXPOSE 5432
CMD ["postgres-entrypoint"]

# HAProxy from Debian in front of replicas (docker-compose.scale.yml):
# per-call round robin over HTTP/2, active health checks on /readyz.
FROM debian:12 AS balancer
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends haproxy \
 && rm -rf /var/lib/apt/lists/*
COPY deploy/haproxy/haproxy.cfg /etc/haproxy/haproxy.cfg
USER haproxy
EXPOSE 50051 50052 8404
# -W: master-worker, -db: in the foreground, logs on stdout.
CMD ["haproxy", "-W", "-db", "-f", "/etc/haproxy/haproxy.cfg"]
