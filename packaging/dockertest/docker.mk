# Rules for the container integration suite (packaging/dockertest).
#
#   make docker-test   builds everything and the .deb, the base image (once,
#                      with debootstrap) and a test image from
#                      Dockerfile.test, runs the suite, and removes every
#                      container and the test image, also on failure
#   make test-docker   the same when a Docker engine answers; otherwise
#                      says why it skips (and fails when CI=true)
#   make demo          a throw-away sshd with pam-totp on 127.0.0.1:2222
#   make demo-stop     removes it
#
# DOCKER_BASE is the image the test image starts from. The default is made
# locally by base-image.sh with debootstrap, since no registry can be
# reached here; where one can, DOCKER_BASE=debian:bookworm works too.

DOCKER          ?= docker
DOCKER_BASE     ?= pam-totp-base:bookworm
DOCKER_DIR      := packaging/dockertest
DOCKER_TIMEOUT  ?= 15m
DEMO_NAME       ?= pam-totp-demo
DEMO_IMAGE      ?= pam-totp-demo:latest
DEMO_PORT       ?= 2222
DEMO_USER       ?= demo

.PHONY: docker-test test-docker docker-check docker-base docker-base-if-engine demo demo-stop

test: test-docker

# Listed first in the prerequisites of what needs Docker, so that a missing
# engine is said before anything is built.
docker-check:
	@if ! $(DOCKER) info >/dev/null 2>&1; then \
		echo "docker: no Docker engine answers ('$(DOCKER) info' failed): the container suite and the demo need one. Install docker.io and start it (systemctl start docker), then try again." >&2; \
		exit 1; \
	fi

# The base image, made where it is missing; only the local tag can be made.
docker-base:
	@if [ "$(DOCKER_BASE)" = pam-totp-base:bookworm ]; then \
		$(DOCKER_DIR)/base-image.sh $(DOCKER_BASE); \
	elif ! $(DOCKER) image inspect $(DOCKER_BASE) >/dev/null 2>&1; then \
		$(DOCKER) pull $(DOCKER_BASE); \
	fi

# The package tests run the maintainer scripts in the base image
# (TestDebLifecycle in packaging/deb_test.go). Where a Docker engine
# answers, the image is made before they run, whatever order make takes
# the prerequisites of test in; where none answers, nothing is made here,
# and the test skips, or fails under CI=true.
test-go: docker-base-if-engine
test-go: export PAM_TOTP_DEB_IMAGE ?= $(DOCKER_BASE)

docker-base-if-engine:
	@if $(DOCKER) info >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory docker-base; \
	fi

# docker-build IMAGE: builds the test image from the one .deb in $(BUILD),
# its output kept in $$log and shown only on failure. It uses the classic
# builder, which every engine has (BuildKit needs the buildx plugin, which
# not every install has): docker-clean finds the layers of a failed build
# by the ids the classic builder prints, where BuildKit prints none and
# keeps its steps in a cache of its own.
define docker-build
	set -- $(BUILD)/pam-totp_*.deb; \
	if [ $$# -ne 1 ] || [ ! -f "$$1" ]; then \
		echo "docker: want exactly one $(BUILD)/pam-totp_*.deb, found: $$*" >&2; exit 1; \
	fi; \
	start=$$(date +%s); \
	if ! DOCKER_BUILDKIT=0 $(DOCKER) build --force-rm -f Dockerfile.test --build-arg BASE=$(DOCKER_BASE) \
		--build-arg DEB="$$1" --label pam-totp-test=$$run -t $(1) . >"$$log" 2>&1; then \
		cat "$$log" >&2; echo "docker: building $(1) from Dockerfile.test failed" >&2; exit 1; \
	fi; \
	echo "docker: built $(1) from $$1 in $$(( $$(date +%s) - start )) s"
endef

# docker-clean: removes the containers labelled with $$run, the image
# $$image, and the untagged layers that the build in $$log made (a failed
# build leaves them behind); layers that other images use stay. It fails
# if a container or the image is still there afterwards.
define docker-clean
	ids=$$($(DOCKER) ps -aq --filter label=pam-totp-test=$$run); \
	if [ -n "$$ids" ]; then $(DOCKER) rm -f -v $$ids >/dev/null || true; fi; \
	$(DOCKER) rmi -f $$image >/dev/null 2>&1 || true; \
	for id in $$(sed -n 's/^ ---> \([0-9a-f]\{12\}\)$$/\1/p' "$$log" 2>/dev/null); do \
		tags=$$($(DOCKER) image inspect -f '{{len .RepoTags}}' $$id 2>/dev/null) || continue; \
		if [ "$$tags" = 0 ]; then $(DOCKER) rmi $$id >/dev/null 2>&1 || true; fi; \
	done; \
	rm -f "$$log"; \
	if [ -n "$$($(DOCKER) ps -aq --filter label=pam-totp-test=$$run)" ] || \
		$(DOCKER) image inspect $$image >/dev/null 2>&1; then \
		echo "docker: could not remove all of the image $$image and the containers labelled pam-totp-test=$$run" >&2; \
		exit 1; \
	fi
endef

# The run id labels every container the suite starts, so that the trap
# removes them even when the test binary is killed.
docker-test: docker-check all deb docker-base
	@set -e; \
	run=$$(od -An -N4 -tx4 /dev/urandom | tr -d ' '); image=pam-totp-test:$$run; \
	log=$$(mktemp); \
	cleanup() { $(docker-clean); }; \
	trap cleanup EXIT; trap 'exit 1' INT TERM; \
	$(call docker-build,$$image); \
	start=$$(date +%s); \
	PAM_TOTP_TEST_IMAGE=$$image PAM_TOTP_TEST_RUN=$$run \
		$(GO) test -tags dockertest -count=1 -timeout $(DOCKER_TIMEOUT) \
		$(DOCKER_TEST_FLAGS) ./$(DOCKER_DIR)/; \
	echo "docker: suite passed in $$(( $$(date +%s) - start )) s"

# make test runs the suite only where a Docker engine answers; under CI a
# missing engine is a failure, not a skip.
test-docker:
	@if $(DOCKER) info >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory docker-test; \
	elif [ "$(CI)" = true ]; then \
		echo "test-docker: FAIL: no Docker engine answers ('$(DOCKER) info' failed) and CI=true" >&2; \
		exit 1; \
	else \
		echo "test-docker: SKIPPED: no Docker engine answers ('$(DOCKER) info' failed), so the container suite did not run. Start Docker, or run 'make docker-test' where it runs."; \
	fi

# The demo: the test image with the password-then-code PAM profile, its
# test users removed and one user enrolled. demo-user.sh returns once sshd
# answers with the demo user's settings, so the login shown works at once.
demo: docker-check all deb docker-base
	@set -e; run=demo; log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	$(DOCKER) rm -f $(DEMO_NAME) >/dev/null 2>&1 || true; \
	$(call docker-build,$(DEMO_IMAGE)); \
	$(DOCKER) run -d --name $(DEMO_NAME) --hostname $(DEMO_NAME) --label pam-totp-test=demo \
		-e PAM_TOTP_TEST_PROFILE=password-code \
		-p 127.0.0.1:$(DEMO_PORT):22 $(DEMO_IMAGE) >/dev/null; \
	tty=; if [ -t 1 ]; then tty=-t; fi; \
	$(DOCKER) exec $$tty $(DEMO_NAME) /usr/local/lib/pam-totp-test/demo-user.sh $(DEMO_USER); \
	echo; \
	echo "Scan the QR code above with an authenticator app, then log in with:"; \
	echo; \
	echo "    ssh -p $(DEMO_PORT) $(DEMO_USER)@127.0.0.1"; \
	echo; \
	echo "It asks for the password above, then for the code that the app shows."; \
	echo "The demo listens on 127.0.0.1 only. Remove it with: make demo-stop"

demo-stop:
	@$(DOCKER) rm -f $(DEMO_NAME) >/dev/null 2>&1 && echo "demo: removed container $(DEMO_NAME)" || echo "demo: no container $(DEMO_NAME)"
	@$(DOCKER) rmi $(DEMO_IMAGE) >/dev/null 2>&1 && echo "demo: removed image $(DEMO_IMAGE)" || true
