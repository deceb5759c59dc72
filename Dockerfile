# syntax=docker/dockerfile:1
# Builds the same static binary as `make build` (same flags).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/cdcd ./cmd/cdcd

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cdcd /usr/local/bin/cdcd
# File checkpoints (stdout/file sinks) live here; mount a volume.
VOLUME ["/var/lib/cdcd"]
EXPOSE 9187
USER nonroot:nonroot
ENTRYPOINT ["cdcd"]
CMD ["run", "--config", "/etc/cdcd"]
