# Stands in for cassandra (the Docker Official Image) where it cannot be pulled:
# upstream's layout (Cassandra under /opt/cassandra, its configuration in /etc/cassandra,
# data in /var/lib/cassandra (a volume) and logs in /var/log/cassandra, linked from
# /opt/cassandra as upstream links them; the user cassandra, uid 999), on a Debian Java
# base (upstream's is eclipse-temurin), with Python, as upstream's has for cqlsh. The jars
# are Cassandra's own, from Maven Central: those the native tests run. bin/cassandra and
# bin/cqlsh are the stand-in's (cassandra-bin/; cqlsh on the tests' CQL client, in
# pylib/): upstream's release archive, where its scripts and default configuration come
# from, cannot be fetched here. No docker-entrypoint.sh: upstream's only execs a command
# given by its path, as the stack gives it. Built by harness/standins.py.
ARG base
FROM ${base}
ENV CASSANDRA_HOME=/opt/cassandra CASSANDRA_CONF=/etc/cassandra
ENV PATH=/opt/cassandra/bin:$PATH
RUN groupadd --system --gid 999 cassandra \
    && useradd --system --gid cassandra --uid 999 cassandra \
    && mkdir -p /opt/cassandra /etc/cassandra /var/lib/cassandra /var/log/cassandra \
    && chown -R cassandra:cassandra /etc/cassandra /var/lib/cassandra /var/log/cassandra \
    && chmod 1777 /etc/cassandra /var/lib/cassandra /var/log/cassandra \
    && ln -sT /var/lib/cassandra /opt/cassandra/data \
    && ln -sT /var/log/cassandra /opt/cassandra/logs \
    && ln -sT /etc/cassandra /opt/cassandra/conf
COPY lib/ /opt/cassandra/lib/
COPY bin/ /opt/cassandra/bin/
COPY pylib/ /opt/cassandra/pylib/
COPY jvm17-server.options /etc/cassandra/
RUN chmod 755 /opt/cassandra/bin/*
VOLUME /var/lib/cassandra
EXPOSE 7000 9042
CMD ["cassandra", "-f"]
