# The developer entry points.  On a fresh Debian 12 machine `make demo` and
# `make test` install what they need (apt-get), build and run; everything else
# here is a convenience around meson.

BUILD     ?= build
SAN_BUILD ?= build-san
FUZZ_SECONDS ?= 300
BENCH_ARGS ?= --players 100,500,1000 --seconds 10 --repeat 3
GST_BENCH_ARGS ?= --seconds 10 --repeat 3 --streams 8

# Everything the build and the tests need from Debian.
DEB_PACKAGES := build-essential pkg-config meson ninja-build python3 \
	clang libclang-rt-14-dev openssl \
	libjansson-dev libssl-dev \
	libwebsockets-dev libwebsockets-evlib-uv libuv1-dev \
	libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools \
	gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
	gstreamer1.0-plugins-ugly gstreamer1.0-libav \
	libobs-dev obs-studio obs-plugins libavcodec-dev libavutil-dev \
	libx11-dev xvfb xauth \
	chromium

# Only `make bench` needs these: the RTMP server the GStreamer benchmark
# compares against (nginx with Debian's RTMP module).  The SRT elements come
# with gstreamer1.0-plugins-bad above.
BENCH_DEB_PACKAGES := nginx libnginx-mod-rtmp

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps bench-deps build build-san test demo bench fuzz install format clean help

all: build

help:
	@echo "make demo    - install dependencies, build, and run the demo"
	@echo "make test    - install dependencies, build, and run every test suite"
	@echo "make bench   - build, then run the relay and GStreamer benchmarks (docs/performance.md)"
	@echo "make build   - build into $(BUILD)/"
	@echo "make fuzz    - run each fuzz target for FUZZ_SECONDS (default $(FUZZ_SECONDS))"
	@echo "make install - install into meson's prefix (default /usr/local)"
	@echo "make format  - format the C sources with clang-format"

# Quick when everything is there: dpkg-query only, no apt-get.
deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${db:Status-Abbrev}' "$$p" 2>/dev/null | grep -q '^ii' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi
	@# Browser tests bring npm packages, pinned by a committed lockfile.  Node.js
	@# and npm come from Debian only when the machine has none (a Node.js from
	@# elsewhere conflicts with Debian's npm package).
	@for lock in $(wildcard tests/*/package-lock.json); do \
		command -v npm >/dev/null 2>&1 || { $(SUDO) apt-get update -q && \
			DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q nodejs npm; }; \
		dir=$$(dirname "$$lock"); \
		[ -d "$$dir/node_modules" ] || (cd "$$dir" && npm ci --no-audit --no-fund); \
	done

# The benchmark's packages, as deps does.  Debian's nginx package starts its
# service where the init system lets it (policy-rc.d may forbid it): the
# benchmark runs nginx itself, so a service that the installation started is
# stopped (and, under systemd, disabled) again.
bench-deps: deps
	@missing=""; \
	for p in $(BENCH_DEB_PACKAGES); do \
		dpkg-query -W -f='$${db:Status-Abbrev}' "$$p" 2>/dev/null | grep -q '^ii' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		was_running=$$(pgrep -x nginx >/dev/null 2>&1 && echo yes); \
		echo "Installing Debian packages for the benchmarks:$$missing"; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing || exit 1; \
		if [ -z "$$was_running" ] && pgrep -x nginx >/dev/null 2>&1; then \
			echo "Stopping the nginx service the installation started"; \
			if [ -d /run/systemd/system ]; then $(SUDO) systemctl disable --now nginx; \
			else $(SUDO) /usr/sbin/nginx -s quit; fi; \
		fi; \
	fi

$(BUILD)/build.ninja:
	meson setup $(BUILD) --werror

$(SAN_BUILD)/build.ninja:
	CC=clang meson setup $(SAN_BUILD) --werror \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fno-sanitize-recover=all -Dfuzzing=enabled

build: deps $(BUILD)/build.ninja
	meson compile -C $(BUILD)

build-san: deps $(SAN_BUILD)/build.ninja
	meson compile -C $(SAN_BUILD)

# Runs both builds' suites to the end even when one fails, then adds up.
test: build build-san
	@status=0; \
	echo "== tests ($(BUILD))"; \
	meson test -C $(BUILD) --print-errorlogs || status=1; \
	echo "== tests under ASan/UBSan, and fuzz targets ($(SAN_BUILD))"; \
	meson test -C $(SAN_BUILD) --print-errorlogs || status=1; \
	python3 tests/summary.py $(BUILD) $(SAN_BUILD) || status=1; \
	exit $$status

demo: build
	@sh examples/demo.sh $(BUILD)

# One stream to 100, 500 and 1000 players, through the server and through a
# minimal writev relay (~5 minutes); then publish-to-play latency and CPU per
# stream of zegosink -> server -> zegosrc beside RTMP through nginx and SRT
# (~5 minutes).  Both print the tables of docs/performance.md.
bench: build bench-deps
	$(BUILD)/tests/bench/zego-bench-relay $(BENCH_ARGS)
	$(BUILD)/tests/bench/zego-bench-gst-latency $(GST_BENCH_ARGS)

FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz-%.c,%,$(wildcard tests/fuzz/fuzz-*.c))

fuzz: build-san
	@for t in $(FUZZ_TARGETS); do \
		echo "== fuzz-$$t for $(FUZZ_SECONDS) s"; \
		sh tests/fuzz/run-fuzzer.sh $(SAN_BUILD)/tests/fuzz/fuzz-$$t tests/fuzz/corpus/$$t \
			$(SAN_BUILD)/tests/fuzz/corpus-$$t $(FUZZ_SECONDS) || exit 1; \
	done

install: build
	meson install -C $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
