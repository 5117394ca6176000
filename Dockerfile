# syntax=docker/dockerfile:1
# roster as a container image: a static musl binary on distroless, run as a
# non-root user, `roster` as the entrypoint. For GitLab CI, Azure Pipelines
# and a Kubernetes CronJob running `roster reconcile --once` (docs/ci.md).
#
#   docker build -t roster .
#   docker run --rm -v "$PWD:/work" roster plan -C tenant-config
#
# Multi-arch without an emulator: the build stage runs on the build machine's
# platform and cross-compiles for the target's with cargo-zigbuild (the same
# tool and pins as .github/workflows/release.yml).

ARG RUST_VERSION=1.95

FROM --platform=$BUILDPLATFORM rust:${RUST_VERSION}-slim-bookworm AS build
ARG TARGETARCH
# The commit `roster --version` names (the source has no .git in the image's
# build context); image.yml passes them.
ARG ROSTER_BUILD_COMMIT=""
ARG ROSTER_BUILD_DATE=""
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-venv \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/zigbuild \
    && /opt/zigbuild/bin/pip install --no-cache-dir cargo-zigbuild==0.24.1 ziglang==0.15.2
ENV PATH=/opt/zigbuild/bin:$PATH
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN case "$TARGETARCH" in \
        amd64) echo x86_64-unknown-linux-musl ;; \
        arm64) echo aarch64-unknown-linux-musl ;; \
        *) echo "no roster image for $TARGETARCH" >&2; exit 1 ;; \
    esac > /rust-target \
    && rustup target add "$(cat /rust-target)"
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo zigbuild --locked --release --bin roster --target "$(cat /rust-target)" \
    && cp "target/$(cat /rust-target)/release/roster" /roster

# The `ci` variant (`docker build --target ci`, tag `VERSION-ci`): the same
# binary with distroless's busybox shell at /busybox/sh, for CI systems that
# run job scripts inside the image (GitLab CI). Same non-root user.
FROM gcr.io/distroless/static-debian12:debug-nonroot AS ci
COPY --from=build /roster /usr/local/bin/roster
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/roster"]
CMD ["--help"]

# The default image (the last stage). distroless/static: CA certificates,
# /etc/passwd with `nonroot` (65532), no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /roster /usr/local/bin/roster
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/roster"]
CMD ["--help"]
