# Stands in for apache/kafka where it cannot be pulled: upstream's layout (Kafka under
# /opt/kafka, its launch scripts in bin/ and its jars in libs/; /var/lib/kafka/data
# made the user's and a volume; the image's user appuser, uid 1000), on a Debian Java
# base (upstream's is eclipse-temurin). The jars are Kafka's own, from Maven Central:
# those the native tests run. The scripts in bin/ are the stand-in's (kafka-bin/):
# upstream's release archive, where its scripts come from, cannot be fetched here.
# No /etc/kafka/docker/run (upstream's default command): the stack gives its own.
# Built by harness/standins.py.
ARG base
FROM ${base}
RUN groupadd --gid 1000 appuser \
    && useradd --uid 1000 --gid 1000 --create-home --shell /bin/bash appuser \
    && mkdir -p /var/lib/kafka/data /etc/kafka \
    && chown -R appuser:root /var/lib/kafka /etc/kafka \
    && chmod -R ug+w /var/lib/kafka /etc/kafka
COPY libs/ /opt/kafka/libs/
COPY bin/ /opt/kafka/bin/
COPY jvm-performance.options /opt/kafka/standin/
RUN chmod 755 /opt/kafka/bin/*.sh && chown -R appuser:appuser /opt/kafka
USER appuser
VOLUME ["/var/lib/kafka/data"]
EXPOSE 9092
