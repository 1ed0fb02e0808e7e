from pathkg.cli import main

main()
