# Builds the single executable, then runs it as a non-root user with a volume for its data.
#   docker build -t crochet .
#   docker run -p 8787:8787 -v crochet-data:/data -e CROCHET_PUBLIC_URL=https://market.example.com crochet
FROM oven/bun:1.4.5 AS build
WORKDIR /src
COPY package.json bun.lock bunfig.toml ./
RUN bun install --frozen-lockfile --production
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
COPY migrations ./migrations
COPY public ./public
RUN bun scripts/build.ts

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin crochet \
 && mkdir -p /data && chown crochet:crochet /data
COPY --from=build /src/dist/crochet /usr/local/bin/crochet
USER crochet
WORKDIR /data
ENV CROCHET_DATA_DIR=/data CROCHET_HOST=0.0.0.0 CROCHET_PORT=8787
VOLUME ["/data"]
EXPOSE 8787
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/crochet"]
CMD ["serve"]
