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

# Crée le venv ($2, par défaut .venv) au besoin et y installe, depuis le verrou requirements-lock.txt (versions
# exactes, empreintes vérifiées), les dépendances, pip et setuptools ; puis le paquet lui-même, non éditable (on
# teste ce qui sera livré), sans rien télécharger de plus. Avec PACTE_DERNIERES=1 : les dernières versions
# publiées permises par pyproject.toml, sans le verrou (voir ./scripts/tests.sh --dernieres).
preparer_venv() {
    local cible="$1" venv="${2:-.venv}"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    if [ "${PACTE_DERNIERES:-}" = 1 ]; then
        "$venv/bin/python" -m pip install --quiet --upgrade pip setuptools
        "$venv/bin/python" -m pip install --quiet --no-cache-dir --upgrade --upgrade-strategy eager "$cible"
        return
    fi
    "$venv/bin/python" -m pip install --quiet --no-cache-dir --require-hashes -r requirements-lock.txt
    "$venv/bin/python" -m pip install --quiet --no-cache-dir --no-deps --no-build-isolation "$cible"
}
