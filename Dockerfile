# Deckhand: the node agent and the control plane in one image (entrypoint `deckhand`).
#
#   docker build -t deckhand .                                   # on node:24-bookworm-slim from Docker Hub
#   docker build --build-arg BASE_IMAGE="$(scripts/build-base-image.sh)" -t deckhand .   # no registry (CI)
#
# Behind a TLS-inspecting proxy, give the npm step the host's CA bundle (BuildKit, not kept in the image):
#   DOCKER_BUILDKIT=1 docker build --secret id=ca-certificates,src=/etc/ssl/certs/ca-certificates.crt …
# BASE_IMAGE must provide Node 24 with npm on Debian (apt) — the official node:24-bookworm-slim or the local
# equivalent scripts/build-base-image.sh builds. README.md ("Operator guide") has the `docker run` lines.
ARG BASE_IMAGE=node:24-bookworm-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Not `npm ci`: npm 11 leaves optional platform packages (e.g. @biomejs/cli-*) out of the lock file and then
# refuses it as out of sync; `install --no-save` installs exactly the locked versions all the same.
RUN --mount=type=secret,id=ca-certificates \
    if [ -s /run/secrets/ca-certificates ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca-certificates; fi; \
    npm install --no-save --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY proto ./proto
COPY src ./src
ARG GIT_COMMIT=unknown
RUN ./node_modules/.bin/tsc -p tsconfig.build.json \
    && printf '{\n  "gitCommit": "%s"\n}\n' "$GIT_COMMIT" > dist/build-info.json \
    && chmod +x dist/cli/main.js
# Offline: everything production needs is installed already; prune only removes.
RUN npm prune --omit=dev --offline --no-audit --no-fund --loglevel=error \
    && find node_modules -mindepth 1 -maxdepth 1 -type d -empty -delete

FROM ${BASE_IMAGE}
# The agent's service proxy and pod networking use iptables, conntrack and ip: installed unless the base has them.
RUN if command -v iptables && command -v conntrack && command -v ip; then :; else \
      apt-get update && apt-get install -y --no-install-recommends iptables conntrack iproute2 ca-certificates \
      && rm -rf /var/lib/apt/lists/*; fi >/dev/null
WORKDIR /opt/deckhand
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /src/proto ./proto
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
RUN ln -s /opt/deckhand/dist/cli/main.js /usr/local/bin/deckhand
ENTRYPOINT ["deckhand"]
CMD ["--help"]
