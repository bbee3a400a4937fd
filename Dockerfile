# syntax=docker/dockerfile:1
#
# The eventbridge image: one static binary on distroless, running as uid 65532.
#
#   docker build -t eventbridge \
#     --build-arg VERSION="$(git describe --tags --abbrev=0 2>/dev/null || echo 0.1.0-dev)" \
#     --build-arg BUILD="$(git rev-parse --short HEAD)" \
#     --build-arg GITTAG="$(git describe --tags --always --dirty)" .
#   docker run -p 8080:8080 -v eventbridge-data:/data \
#     -e EVENTBRIDGE_ADMIN_TOKEN="$(openssl rand -hex 32)" eventbridge
#
# No HEALTHCHECK: the final image has no shell and no curl to run one. Probes
# come from the orchestrator: GET /healthz (alive) and GET /readyz (ready) on
# port 8080 (see deploy/kubernetes and docs/operations.md).

ARG GO_VERSION=1.26
ARG BASE_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# The same build as the Makefile's `build` target.
ARG VERSION=0.1.0-dev
ARG BUILD=unknown
ARG GITTAG=unknown
ARG TARGETOS
ARG TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath \
      -ldflags "-s -w -X github.com/eventbridge-dev/eventbridge/internal/version.Version=${VERSION} -X github.com/eventbridge-dev/eventbridge/internal/version.Build=${BUILD} -X github.com/eventbridge-dev/eventbridge/internal/version.GitTag=${GITTAG}" \
      -o /out/eventbridge ./cmd/eventbridge \
 && mkdir -p /out/data

# distroless static: CA certificates, tzdata, /etc/passwd with nonroot
# (65532), no shell.
FROM ${BASE_IMAGE}
COPY --from=build /out/eventbridge /usr/local/bin/eventbridge
COPY deploy/eventbridge.yaml /etc/eventbridge/eventbridge.yaml
# An empty /data owned by the runtime user, so that a new named volume
# starts out writable by it.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/eventbridge"]
CMD ["serve", "--config", "/etc/eventbridge/eventbridge.yaml"]
