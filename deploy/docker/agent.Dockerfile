# Build the distribution first: ./mvnw -B -Pdist package
FROM eclipse-temurin:17-jre
COPY dist/target/lockstep-0.1.0-SNAPSHOT/lockstep-0.1.0-SNAPSHOT/ /opt/lockstep/
EXPOSE 9465
ENTRYPOINT ["/opt/lockstep/bin/lockstep-agent"]
CMD ["--config", "/etc/lockstep/agent.yaml"]
