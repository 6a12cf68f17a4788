# The toolkit for the docker-compose stack. It reaches DynamoDB Local and ScyllaDB
# over the network, so it needs neither Java nor npm.
FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY toolkit toolkit
COPY mutator mutator
COPY verify verify
# The same layout as `make install`, so demo/run.sh finds .venv/bin/toolkit.
RUN python -m venv .venv && .venv/bin/pip install --no-cache-dir .
COPY demo demo

RUN useradd --create-home toolkit && chown -R toolkit /app/demo
USER toolkit
ENV PATH=/app/.venv/bin:$PATH
CMD ["bash", "demo/run.sh"]
