# Placeholder: the container build (Debian base, OpenBLAS variant as a build argument, the
# project's own build code path, non-root user) is not written yet.
FROM debian:bookworm-slim
CMD ["echo", "blasbench container image: not implemented yet"]
