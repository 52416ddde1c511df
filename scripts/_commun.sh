# Fonctions partagées par scripts/demo.sh et scripts/tests.sh (à sourcer, pas à exécuter).

racine="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$racine"

# Installe par apt les paquets Debian absents (en root, ou par sudo).
installer_paquets() {
    local manquants=()
    for paquet in "$@"; do
        dpkg-query -W -f='${Status}' "$paquet" 2>/dev/null | grep -q "install ok installed" || manquants+=("$paquet")
    done
    if ((${#manquants[@]})); then
        echo "→ Installation des paquets Debian : ${manquants[*]}"
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${manquants[@]}"
    fi
}

# Crée .venv au besoin et y installe le paquet (non éditable : on teste ce qui sera livré).
preparer_venv() {
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet --no-cache-dir "$1"
}
