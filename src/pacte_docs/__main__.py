from pacte_docs.cli import main

main()
