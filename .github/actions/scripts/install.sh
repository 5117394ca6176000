#!/usr/bin/env bash
# Installs roster for the action (action.yml): `source` builds the checked-out
# commit with cargo (roster's own repository); any other version downloads
# the release archive for this runner's OS and architecture, verifies it
# against the release's SHA256SUMS and puts roster on the PATH.
#
# Environment: ROSTER_VERSION (a tag such as v0.1.0, `latest` or `source`),
# ROSTER_REPOSITORY (owner/name of roster's repository; empty: taken from
# ACTION_PATH, the action's folder), GH_TOKEN (for the GitHub API), and the runner's RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP,
# GITHUB_PATH, GITHUB_SERVER_URL, GITHUB_API_URL.
set -euo pipefail

version="${ROSTER_VERSION:?the action input version is empty}"

if [ "$version" = source ]; then
    if ! grep -qx 'name = "roster"' Cargo.toml 2>/dev/null; then
        echo "::error::version: source builds roster from the checkout, but the working directory holds no roster source; set version: to a release tag"
        exit 1
    fi
    cargo install --locked --force --path .
    exit 0
fi

# The action's own repository, from where the runner keeps it:
# .../_actions/OWNER/NAME/REF (github.action_repository is empty inside a
# composite action).
repository="${ROSTER_REPOSITORY:-}"
if [ -z "$repository" ]; then
    case "${ACTION_PATH:-}" in
        */_actions/*/*/*)
            rest="${ACTION_PATH##*/_actions/}"
            owner="${rest%%/*}"
            rest="${rest#*/}"
            repository="$owner/${rest%%/*}"
            ;;
    esac
fi
if [ -z "$repository" ]; then
    echo "::error::cannot tell which repository holds roster's releases: set the action input repository (owner/name)"
    exit 1
fi

case "$RUNNER_OS/$RUNNER_ARCH" in
    Linux/X64) target=x86_64-unknown-linux-musl ext=tar.gz ;;
    Linux/ARM64) target=aarch64-unknown-linux-musl ext=tar.gz ;;
    macOS/ARM64) target=aarch64-apple-darwin ext=tar.gz ;;
    macOS/X64) target=x86_64-apple-darwin ext=tar.gz ;;
    Windows/X64) target=x86_64-pc-windows-msvc ext=zip ;;
    *)
        echo "::error::no roster release binary for $RUNNER_OS/$RUNNER_ARCH: use version: source on a runner with cargo"
        exit 1
        ;;
esac

api() {
    curl --silent --show-error --fail --location --retry 3 \
        -H "Accept: application/vnd.github+json" \
        ${GH_TOKEN:+-H "Authorization: Bearer $GH_TOKEN"} "$@"
}

if [ "$version" = latest ]; then
    version=$(api "$GITHUB_API_URL/repos/$repository/releases/latest" \
        | sed -n 's/^ *"tag_name": *"\([^"]*\)".*$/\1/p' | head -n 1)
    if [ -z "$version" ]; then
        echo "::error::cannot find the latest release of $repository"
        exit 1
    fi
fi

name="roster-$version-$target"
asset="$name.$ext"
dir="$RUNNER_TEMP/roster-install"
rm -rf "$dir"
mkdir -p "$dir/bin"
cd "$dir"
download="$GITHUB_SERVER_URL/$repository/releases/download/$version"
echo "Downloading $download/$asset"
curl --silent --show-error --fail --location --retry 3 -o "$asset" "$download/$asset"
curl --silent --show-error --fail --location --retry 3 -o SHA256SUMS "$download/SHA256SUMS"

# The one line of SHA256SUMS that names this archive, checked with whatever
# SHA-256 tool the runner has.
if ! grep -E "^[0-9a-f]{64}  \*?$asset\$" SHA256SUMS > "$asset.sha256"; then
    echo "::error::SHA256SUMS of roster $version does not list $asset"
    exit 1
fi
if command -v sha256sum > /dev/null 2>&1; then
    sha256sum --check --strict "$asset.sha256"
else
    shasum --algorithm 256 --check "$asset.sha256"
fi

if [ "$ext" = zip ]; then
    if command -v unzip > /dev/null 2>&1; then
        unzip -q "$asset"
    else
        7z x -y "$asset" > /dev/null
    fi
    mv "$name/roster.exe" bin/
else
    tar -xzf "$asset"
    mv "$name/roster" bin/
fi
echo "$dir/bin" >> "$GITHUB_PATH"
"$dir/bin/roster" --version
