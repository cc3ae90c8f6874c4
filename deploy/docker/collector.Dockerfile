# Build the distribution first: ./mvnw -B package (dist/target/lockstep-<version>/...)
FROM eclipse-temurin:17-jre
RUN useradd --system --uid 10001 --home /var/lib/lockstep lockstep && mkdir -p /var/lib/lockstep && chown lockstep /var/lib/lockstep
COPY dist/target/lockstep-0.1.0-SNAPSHOT/lockstep-0.1.0-SNAPSHOT/ /opt/lockstep/
USER lockstep
EXPOSE 7443 9464
VOLUME /var/lib/lockstep
ENTRYPOINT ["/opt/lockstep/bin/lockstep-collector"]
CMD ["--config", "/etc/lockstep/collector.yaml"]
