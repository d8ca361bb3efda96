# One image for every EMS process: `ems start --service <name>`, `ems migrate`, `ems gateway`.
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY packages ./packages
# Node 24 runs the TypeScript directly (type stripping): no build step. Dev dependencies hold the
# runtime pin (`node`) only for machines whose Node is older; the image's Node is 24 already.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
USER node
EXPOSE 3000
ENTRYPOINT ["node", "packages/server/bin/ems.ts"]
CMD ["start"]
