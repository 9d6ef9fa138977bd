from corpus_tool.cli import main

main()
