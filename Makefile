# Job platform backend. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup dev seed reindex test contract bench build deploy admin rotate-keys rollup redrive lint fmt validate openapi template

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

setup: ## install the pinned tools (mold, venv with moto, SAM CLI, cargo-lambda)
	@scripts/setup.sh

dev: ## the whole platform on http://127.0.0.1:3000 (Ctrl-C stops it)
	@scripts/dev.sh

seed: ## demo data into the running `make dev`: categories, companies, ~300 jobs, seekers (password: demo password 2026)
	@. scripts/lib.sh && aws_stand_in_env "$${MOTO_PORT:-4566}" && cargo run -q -p devstack --bin seed -- --url "http://127.0.0.1:$${PORT:-3000}"

reindex: ## rebuild the search indexes of the running `make dev` from its table (search keeps answering)
	@. scripts/lib.sh && aws_stand_in_env "$${MOTO_PORT:-4566}" && SEARCH_ENDPOINT="http://127.0.0.1:$${SEARCH_PORT:-9200}" cargo run -q -p devstack --bin reindex

test: ## template lint, OpenAPI document validation, unit, integration and end-to-end tests against the AWS stand-in, then the contract run
	@scripts/test.sh

contract: ## the contract run alone (part of make test): schemathesis as anonymous, seeker, employer and admin + a generated client's journeys
	@scripts/contract.sh

bench: ## release binary sizes and cold starts per function -> docs/performance.md figures
	@scripts/bench.sh

build: ## release arm64 bootstraps with cargo-lambda (as SAM deploys them)
	@scripts/build.sh

deploy: ## sam build + sam deploy --guided (needs AWS credentials)
	@. scripts/lib.sh && use_tools && sam build --beta-features && sam deploy --guided

admin: ## create an admin in the running local stack: make admin EMAIL=... PASSWORD=... [NAME=...]
	@test -n "$(EMAIL)" -a -n "$(PASSWORD)" || { echo "usage: make admin EMAIL=you@example.com PASSWORD='a long passphrase' [NAME='Your Name']"; exit 2; }
	@. scripts/lib.sh && aws_stand_in_env "$${MOTO_PORT:-4566}" && cargo run -q -p devstack --bin create-admin -- --email "$(EMAIL)" --password "$(PASSWORD)" --name "$(or $(NAME),Administrator)"

rollup: ## analytics rollup of each day FROM..TO (YYYY-MM-DD), its weeks and months: the running `make dev`, or TABLE_NAME=<table> deployed
	@test -n "$(FROM)" -a -n "$(TO)" || { echo "usage: make rollup FROM=2026-11-01 TO=2026-11-23 [TABLE_NAME=<deployed table>]"; exit 2; }
	@set -e; if [ -n "$$TABLE_NAME" ]; then cargo run -q -p devstack --bin rollup -- --from "$(FROM)" --to "$(TO)"; \
	else . scripts/lib.sh && aws_stand_in_env "$${MOTO_PORT:-4566}" && cargo run -q -p devstack --bin rollup -- --from "$(FROM)" --to "$(TO)"; fi

redrive: ## after a fix, move a dead-letter queue's messages back: QUEUE=<logical id> (make dev), or FROM_URL=<dlq> TO_URL=<queue> deployed
	@set -e; if [ -n "$(FROM_URL)" -a -n "$(TO_URL)" ]; then cargo run -q -p devstack --bin redrive -- --from "$(FROM_URL)" --to "$(TO_URL)"; \
	elif [ -n "$(QUEUE)" ]; then . scripts/lib.sh && aws_stand_in_env "$${MOTO_PORT:-4566}" && cargo run -q -p devstack --bin redrive -- --queue "$(QUEUE)"; \
	else echo "usage: make redrive QUEUE=NotificationsQueue | make redrive FROM_URL=<dlq url> TO_URL=<queue url>"; exit 2; fi

rotate-keys: ## new signing and field keys, taking over in 15 min: the running `make dev`, or STACK=<name> deployed [AFTER=seconds ONLY=signing|field]
	@set -e; args="$(if $(AFTER),--after $(AFTER)) $(if $(ONLY),--only $(ONLY))"; \
	if [ -n "$(STACK)" ]; then cargo run -q -p devstack --bin rotate-keys -- --stack "$(STACK)" $$args; \
	else . scripts/lib.sh && aws_stand_in_env "$${MOTO_PORT:-4566}" && cargo run -q -p devstack --bin rotate-keys -- $$args; fi

lint: ## clippy with warnings as errors, rustfmt check
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt: ## format the code
	cargo fmt --all

openapi: ## regenerate docs/openapi.json from the handlers' annotations
	@cargo run -q -p devstack --bin openapi

template: ## regenerate template.yaml's functions from the crates' functions! rows
	@cargo run -q -p devstack --bin template

validate: ## sam validate --lint
	@. scripts/lib.sh && use_tools && sam validate --lint -t template.yaml
