# Stands in for otel/opentelemetry-collector-contrib where it cannot be pulled: the
# same layout as upstream's release image (an empty root, the binary at /otelcol-contrib,
# a default config the stack mounts over, the CA bundle, user 10001), with the collector
# the builder manifest makes (otel-collector-builder.yaml). Built by harness/standins.py.
FROM scratch
ARG USER_UID=10001
ARG USER_GID=10001
USER ${USER_UID}:${USER_GID}
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY otelcol-contrib /otelcol-contrib
COPY config.yaml /etc/otelcol-contrib/config.yaml
ENTRYPOINT ["/otelcol-contrib"]
CMD ["--config", "/etc/otelcol-contrib/config.yaml"]
EXPOSE 4317 4318
