# Thin wrappers around dev.sh for people who have make.
.PHONY: run test setup lint bench
run: ; bash dev.sh run
test: ; bash dev.sh test
setup: ; bash dev.sh setup
lint: setup ; .venv/bin/ruff check .
bench: setup ; .venv/bin/python -m benchmarks
