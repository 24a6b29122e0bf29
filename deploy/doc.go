// Package deploy holds the deployment pieces of triage, none of them Go: the
// multi-stage Dockerfile and the build script it shares with CI (build.sh),
// the example environment of docker-compose.yml (triage.env.example), the
// Kubernetes manifests (kubernetes/), and healthcheck, the tiny probe binary
// the image carries for Compose healthchecks. Its tests check all of them
// statically, since CI runs no Docker engine or cluster: the Compose file's
// services, the manifests' required fields, security settings and selectors,
// that every configuration variable is set in each place, and that build.sh
// builds a static binary that runs. README.md explains how to deploy.
package deploy
