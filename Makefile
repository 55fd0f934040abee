.PHONY: run test smoke
run:    ## set up and run the portal with demo data (web, worker, beat)
	scripts/run.sh
test:   ## set up and run every test
	scripts/test.sh
smoke:  ## boot on the embedded default, check the login page and the worker, exit
	scripts/run.sh --smoke
