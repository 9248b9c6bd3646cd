"""Security incidents (issue 16): acts beyond the agency's authorization, recorded, acknowledged by the agency and
closed by the project manager. Intake owns them because it holds tickets and their authorizations: dispatch (and
later assets) announce what they detect, intake records each once, and detects the desk's own acts itself."""
