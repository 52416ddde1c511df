#!/usr/bin/env bash
# Tout le travail de pacte sur une machine Debian neuve : installe ce qui manque, puis lance « pacte demo ».
# Usage : ./scripts/demo.sh [DOSSIER]   (par défaut : ./pacte-demo)
set -euo pipefail
source "$(dirname "$0")/_commun.sh"
installer_paquets python3 python3-venv libreoffice-writer-nogui fonts-liberation2 fonts-dejavu
preparer_venv .
exec .venv/bin/pacte demo "${1:-pacte-demo}"
