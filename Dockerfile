# syntax=docker/dockerfile:1
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
RUN cargo build --release --locked --bin base-image-policy

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --create-home app
COPY --from=build /src/target/release/base-image-policy /usr/local/bin/base-image-policy
USER app
WORKDIR /data
# DATABASE_URL (postgres://… in production; the default is an SQLite file in /data) and
# ADMIN_TOKEN come from the environment at run time; so does SECRETS_KEY (or SECRETS_KEY_FILE),
# the master key every replica shares (without it, /data/secrets.key is generated).
ENV LISTEN_ADDR=0.0.0.0:8080 \
    DATABASE_URL=sqlite:///data/base-image-policy.db
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/base-image-policy"]
