# authgate container image (issue 6 §1). Multi-stage on Debian 12:
#   build    installs the build packages exactly as scripts/install-deps.sh build does,
#            then configures and builds with tests and benchmarks off;
#   runtime  only the shared libraries authgate links (ldd build/gateway/authgate),
#            curl for the HEALTHCHECK, and a non-root user.
# The image's default config is config/gateway.yaml (loopback listeners: useful only with
# --network host or a mounted config); docker-compose.yml mounts config/compose.yaml there.
#
#   docker build -t authgate .
#   docker run --rm -v "$PWD/config/compose.yaml:/etc/authgate/gateway.yaml:ro" -p 8080:8080 authgate

FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DAUTHGATE_BUILD_TESTS=OFF -DAUTHGATE_BUILD_BENCHMARKS=OFF \
 && ninja -C /build -j "$(nproc)" authgate \
 && strip --strip-debug -o /authgate /build/gateway/authgate \
 && /authgate --version

FROM debian:bookworm-slim AS runtime
# One package per shared library of the binary (scripts/check_docker_runtime.sh checks the list
# against ldd in CI). libprometheus-cpp-core1.0: libprometheus-cpp-core.so.1.0; libspdlog1.10 + libfmt9: spdlog is
# linked dynamically; Boost (Asio, Beast, JSON) is header-only or static here.
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      libssl3 libyaml-cpp0.7 libprometheus-cpp-core1.0 libspdlog1.10 libfmt9 libhiredis0.14 \
      ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /nonexistent --shell /usr/sbin/nologin authgate
COPY --from=build /authgate /usr/local/bin/authgate
COPY config/gateway.yaml /etc/authgate/gateway.yaml
USER authgate:authgate
EXPOSE 8080 9901
# The admin listener answers /healthz once the process is up (readiness is /readyz).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:9901/healthz"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/authgate", "--config", "/etc/authgate/gateway.yaml"]
