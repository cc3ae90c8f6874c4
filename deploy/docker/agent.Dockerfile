# Build the distribution first: ./mvnw -B package (dist/target/lockstep-<version>/...)
FROM eclipse-temurin:17-jre
COPY dist/target/lockstep-0.1.0-SNAPSHOT/lockstep-0.1.0-SNAPSHOT/ /opt/lockstep/
# Runs as the engine's user; the Kubernetes DaemonSet sets it (runAsUser), like the unit's User=aos.
USER 1000:1000
EXPOSE 9465
ENTRYPOINT ["/opt/lockstep/bin/lockstep-agent"]
CMD ["--config", "/etc/lockstep/agent.yaml"]
