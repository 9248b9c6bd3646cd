"""The agency's oversight at dispatch (issue 16): engineers' acts on work the agency has not authorized are refused
and announced as violations (intake records them as security incidents), and the agency's requests to replace an
engineer, answered by the project manager within a number of working days."""
