from leadpact.cli import main

main()
