#if canImport(Glibc)
import Glibc
#endif

/// The `command` backend (host argv template) and the macOS `sample`/`spindump` presets.
/// The tool's stdout and stderr go to `command.log`; the `{output}` file, when the tool
/// wrote one, becomes the `command.output` artefact. Killed after duration + 30 s grace.
enum CommandBackend {
    static func run(_ request: CaptureRequest, identity: ProcessIdentity, workDirectory: String,
                    cancel: CancelFlag?) throws -> BackendResult {
        let output = "\(workDirectory)/command.output"
        let argv = CommandTemplate.substitute(request.commandTemplate ?? [], pid: identity.pid,
                                              durationSeconds: request.durationSeconds, output: output)
        return try execute(argv, backend: "command", outputKind: "command.output", output: output,
                           request: request, identity: identity, workDirectory: workDirectory, cancel: cancel)
    }

    static func runPreset(_ request: CaptureRequest, identity: ProcessIdentity, workDirectory: String,
                          cancel: CancelFlag?) throws -> BackendResult {
        let name = request.backend.rawValue
        let output = "\(workDirectory)/\(name).txt"
        let argv = request.backend == .sample
            ? CommandTemplate.sampleArgv(pid: identity.pid, durationSeconds: request.durationSeconds,
                                         intervalSeconds: request.intervalSeconds, output: output)
            : CommandTemplate.spindumpArgv(pid: identity.pid, durationSeconds: request.durationSeconds,
                                           intervalSeconds: request.intervalSeconds, output: output)
        return try execute(argv, backend: name, outputKind: "\(name).txt", output: output,
                           request: request, identity: identity, workDirectory: workDirectory, cancel: cancel)
    }

    static func execute(_ argv: [String], backend: String, outputKind: String, output: String,
                        request: CaptureRequest, identity: ProcessIdentity, workDirectory: String,
                        cancel: CancelFlag?) throws -> BackendResult {
        var result = BackendResult(backend: backend)
        let log = "\(workDirectory)/\(backend).log"
        let res = try ToolRunner.run(argv, stdoutPath: log, stderrPath: log,
                                     timeoutSeconds: request.durationSeconds + 30, cancel: cancel)
        if CaptureSys.fileExists(output) { result.artefacts.append(CaptureArtefact(kind: outputKind, path: output)) }
        result.artefacts.append(CaptureArtefact(kind: "\(backend).log", path: log))
        result.stats = ["elapsedSeconds": res.elapsedSeconds, "exitStatus": Double(res.exitStatus ?? -1)]
        let after = IdentityCheck.check(identity)
        if !res.succeeded {
            result.status = CaptureSys.fileExists(output) ? .partial : .failed
            result.reason = "\(backend) '\(argv[0])' \(res.summary)"
        }
        if let r = after.reason {
            result.status = .partial
            result.reason = "\(backend): \(r)" + (result.reason.map { "; \($0)" } ?? "")
        }
        return result
    }
}
