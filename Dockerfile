# syntax=docker/dockerfile:1
#
# trailmint container image: `trailmint serve` on Node 24, as uid 10001, state in /data.
#
#   docker build -t trailmint:0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" .
#   docker run --read-only --tmpfs /tmp -v trailmint-data:/data -p 8080:8080 \
#     -e TRAILMINT_QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/trail \
#     -e AWS_REGION=eu-west-1 trailmint:0.1.0
#
# Image size and what is in it: docs/deploy.md ("The image"). test/integration/deploy.test.ts
# lints this file and checks the properties below; keep the two in step.

# ---- deps: production node_modules, installed exactly as CI installs (.ci/run), less devDeps ----
FROM node:24-bookworm-slim AS deps
# npm 11 runs only the install scripts that package.json `allowScripts` approves (lmdb,
# msgpackr-extract). Pin the npm CI uses so the image runs the same scripts.
ARG NPM_VERSION=11.19.1
WORKDIR /app
RUN npm install --global --no-audit --no-fund "npm@${NPM_VERSION}"
COPY package.json package-lock.json ./
# .ci/run: `npm ci --no-audit --no-fund`, then the native-module check. --omit=dev also leaves
# out the devDependency `node`: bin/trailmint then falls back to the image's node on PATH.
RUN npm ci --omit=dev --no-audit --no-fund \
  && node -e "require('lmdb'); console.log('node', process.version, 'lmdb ok')"

# ---- runtime: only what runs ----
FROM node:24-bookworm-slim AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="trailmint" \
  org.opencontainers.image.description="Least-privilege IAM policies from CloudTrail activity, continuously" \
  org.opencontainers.image.version="${VERSION}" \
  org.opencontainers.image.revision="${REVISION}" \
  org.opencontainers.image.licenses="Apache-2.0" \
  org.opencontainers.image.base.name="docker.io/library/node:24-bookworm-slim"

# tini (Debian's) is PID 1: it forwards SIGTERM to node, which drains and commits in-flight work
# (see `trailmint serve --help`), and reaps zombies. The user has no home and no shell; /data is
# the only directory it owns (the LMDB store; mount a volume there).
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/* \
  && groupadd --system --gid 10001 trailmint \
  && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
    --shell /usr/sbin/nologin trailmint \
  && mkdir -p /data \
  && chown 10001:10001 /data

WORKDIR /app
# Code stays root-owned and read-only to the service user.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json NOTICE ./
COPY bin ./bin
COPY workers ./workers
COPY samples ./samples
COPY src ./src

# Writes go only to TRAILMINT_STORE (/data) and /tmp: run with a read-only root filesystem.
ENV NODE_ENV=production \
  TRAILMINT_STORE=/data \
  PORT=8080 \
  PATH=/app/bin:$PATH

USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "src/cli.ts", "serve"]
