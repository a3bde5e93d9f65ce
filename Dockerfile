# One image for the hub and the simulators (the command differs).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY adapters ./adapters
COPY sims ./sims
COPY mappings ./mappings
COPY config ./config
RUN pip install --no-cache-dir -e . && mkdir -p var
ENV TONGBAN_LOG_LEVEL=INFO
CMD ["tongban", "run"]
