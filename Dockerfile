# authgate container image (issue 6 §1, issue 17). Multi-stage on Debian 12:
#   runtime-deps  only the shared libraries authgate links (ldd build/gateway/authgate),
#                 curl for the HEALTHCHECK, the CA bundle, a non-root user, the default config;
#   build         installs the build packages exactly as scripts/install-deps.sh build does,
#                 then configures and builds with tests and benchmarks off;
#   runtime       runtime-deps plus the stripped binary (the default target).
# runtime-deps comes first so that `--target runtime-deps` builds nothing else (older
# builders build every stage before the target): docker/prebuilt.Containerfile starts from it
# to package an already-built binary (scripts/image.sh prebuilt, the CI image test).
# The image's default config is config/gateway.yaml (loopback listeners: useful only with
# --network host or a mounted config); docker-compose.yml mounts config/compose.yaml there.
#
#   docker build --build-arg AUTHGATE_GIT_COMMIT=$(git rev-parse HEAD) -t authgate .
#   docker run --rm -v "$PWD/config/compose.yaml:/etc/authgate/gateway.yaml:ro" -p 8080:8080 authgate
#   scripts/image.sh      # the same with podman and a local Debian base (README, docker-compose stack)

FROM debian:bookworm-slim AS runtime-deps
# One package per shared library of the binary (scripts/check_docker_runtime.sh checks the list
# against ldd in CI). libprometheus-cpp-core1.0: libprometheus-cpp-core.so.1.0; libspdlog1.10 + libfmt9: spdlog is
# linked dynamically; Boost (Asio, Beast, JSON) is header-only or static here.
# ca-certificates: /etc/ssl/certs/ca-certificates.crt, the trust store of https JWKS and
# discovery fetches (scripts/test-image.sh checks it).
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      libssl3 libyaml-cpp0.7 libprometheus-cpp-core1.0 libspdlog1.10 libfmt9 libhiredis0.14 libnghttp2-14 \
      ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && useradd --system --uid 10001 --user-group --home-dir /nonexistent --shell /usr/sbin/nologin authgate
COPY config/gateway.yaml /etc/authgate/gateway.yaml
USER authgate:authgate
EXPOSE 8080 9901
# The admin listener answers /healthz once the process is up (readiness is /readyz).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:9901/healthz"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/authgate", "--config", "/etc/authgate/gateway.yaml"]

FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh build && rm -rf /var/lib/apt/lists/*
COPY . .
# The commit --version prints: the build context has no .git (.dockerignore).
ARG AUTHGATE_GIT_COMMIT=unknown
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DAUTHGATE_BUILD_TESTS=OFF -DAUTHGATE_BUILD_BENCHMARKS=OFF \
      -DAUTHGATE_GIT_COMMIT="$AUTHGATE_GIT_COMMIT" \
 && ninja -C /build -j "$(nproc)" authgate \
 && strip --strip-debug -o /authgate /build/gateway/authgate \
 && /authgate --version

FROM runtime-deps AS runtime
COPY --from=build /authgate /usr/local/bin/authgate
