# syntax=docker/dockerfile:1
# Multi-stage build: a static binary on a distroless, non-root base.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/tend-health/tend/internal/cli.Version=${VERSION}" -o /out/tend .
# The data folder must exist and belong to the non-root user before it is
# declared a volume: a new volume takes the image folder's owner, so a plain
# `docker run` on embedded SQLite can write its database.
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tend /usr/local/bin/tend
COPY --from=build --chown=nonroot:nonroot /out/data /data
# Embedded SQLite and other files live here when DATABASE_URL is not set.
ENV TEND_DATA_DIR=/data TEND_ADDR=:8080
VOLUME ["/data"]
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/tend"]
CMD ["serve"]
