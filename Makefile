# Developer shortcuts; each target is a thin wrapper over an npm script, so `npm run ...`
# and `make ...` always do the same thing.
.PHONY: all install build start test coverage lint format typecheck bench ci clean

all: build

install:
	npm install

build:
	npm run build

start: build
	npm start

# Needs Postgres and Redis (DATABASE_URL / REDIS_URL, default: the local ones).
test:
	npm test

coverage:
	npm run test:coverage

lint:
	npm run lint

format:
	npm run format

typecheck:
	npm run typecheck

# Benchmarks live in bench/; runs `npm run bench` once a benchmark script exists.
bench: build
	npm run bench --if-present

ci:
	bash .ci/run

clean:
	rm -rf dist coverage
