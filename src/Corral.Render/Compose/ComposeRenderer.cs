using System.Globalization;
using Corral.Node.Planning;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Corral.Render.Compose;

/// <summary>
/// <c>corral render compose</c>: a docker-compose.yml (file format 3.8, which Debian's docker-compose 1.29 reads) with
/// the supervisor as one service and each planned node as another joining it, plus the files it names: the topology
/// and one credential file per node (compose <c>secrets:</c> from files, mounted under <c>/run/secrets/</c>).
/// </summary>
public static class ComposeRenderer
{
    public const string ComposeFile = "docker-compose.yml";
    public const string NetworkName = "corral";
    private const string SecretsFolder = "/run/secrets";

    /// <summary>File name (relative to the output folder) → content; <see cref="ComposeFile"/> among them.</summary>
    public static IReadOnlyDictionary<string, string> Files(RenderInput input)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            [ComposeFile] = Yaml(input),
            [input.TopologyFileName] = input.TopologyText,
        };
        foreach (var (name, content) in input.Credentials.Files)
        {
            files[$"credentials/{name}"] = content;
        }

        return files;
    }

    public static string Yaml(RenderInput input)
    {
        var services = new YamlMappingNode { { RenderInput.SupervisorName, Supervisor(input) } };
        var volumes = new YamlMappingNode { { "supervisor-data", new YamlMappingNode() } };
        foreach (var role in input.Plan.Roles)
        {
            for (var ordinal = 1; ordinal <= role.Count; ordinal++)
            {
                services.Add(role.NodeId(ordinal), Node(input, role, ordinal));
                if (RenderInput.IsStore(role))
                {
                    volumes.Add($"{role.NodeId(ordinal)}-data", new YamlMappingNode());
                }
            }
        }

        var secrets = new YamlMappingNode();
        foreach (var name in input.Credentials.Files.Keys)
        {
            secrets.Add(name, new YamlMappingNode { { "file", $"./credentials/{name}" } });
        }

        var root = new YamlMappingNode
        {
            { "version", Quoted("3.8") },
            { "services", services },
            { "networks", new YamlMappingNode { { NetworkName, new YamlMappingNode() } } },
            { "volumes", volumes },
            { "secrets", secrets },
        };
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        new YamlStream(new YamlDocument(root)).Save(text, assignAnchors: false);
        return text.ToString().Replace("...\n", "", StringComparison.Ordinal);
    }

    private static YamlMappingNode Supervisor(RenderInput input) => new()
    {
        { "image", input.CorralImage },
        { "command", Sequence(input.SupervisorArguments().Concat(["--signing-key-file", $"{SecretsFolder}/{RenderedCredentials.SupervisorKeyFile}"])) },
        { "hostname", RenderInput.SupervisorName },
        { "ports", Sequence([Quoted(input.DashboardHostPort == 0
            ? $"127.0.0.1::{RenderInput.DashboardPort}"
            : $"127.0.0.1:{input.DashboardHostPort}:{RenderInput.DashboardPort}")]) },
        { "volumes", Sequence([$"./{input.TopologyFileName}:{RenderInput.ConfigFolder}/{input.TopologyFileName}:ro", $"supervisor-data:{RenderInput.DataFolder}"]) },
        { "secrets", Sequence([RenderedCredentials.SupervisorKeyFile]) },
        { "networks", Sequence([NetworkName]) },
        // The supervisor decides the run's end; a finished run is not started again.
        { "restart", input.Finite ? Quoted("no") : new YamlScalarNode("unless-stopped") },
    };

    private static YamlMappingNode Node(RenderInput input, RolePlan role, int ordinal)
    {
        var nodeId = role.NodeId(ordinal);
        var arguments = input.NodeArguments(role, ordinal).Select(a => a.Replace(RenderInput.CredentialFolder, SecretsFolder, StringComparison.Ordinal));
        var service = new YamlMappingNode
        {
            { "image", role.Program is { } program ? input.ProgramImage(program) : input.CorralImage },
            { "command", Sequence(arguments) },
            { "hostname", nodeId },
            { "networks", Sequence([NetworkName]) },
            { "depends_on", Sequence([RenderInput.SupervisorName]) },
            // A drained node exits 0 and stays down; a crash restarts it up to the topology's cap (Docker counts restarts over the
            // container's life, not per 60 s as the supervisor does), with the engine's back-off.
            { "restart", role.Restart == RestartPolicy.Never ? Quoted("no") : Quoted($"on-failure:{role.MaxRestarts}") },
        };
        if (role.Program is null)
        {
            service.Add("secrets", Sequence([nodeId]));
        }
        else if (role.Program.Environment.Count > 0)
        {
            var ports = role.Ports.ToDictionary(p => p.Name, p => role.PortOf(p, ordinal));
            var environment = new YamlMappingNode();
            foreach (var (name, value) in role.Program.Environment)
            {
                environment.Add(name, Quoted(ProgramTemplate.Expand(value, ports, RenderInput.DataFolder, nodeId, "0.0.0.0")));
            }

            service.Add("environment", environment);
        }

        if (RenderInput.IsStore(role))
        {
            service.Add("volumes", Sequence([$"{nodeId}-data:{RenderInput.DataFolder}"]));
        }

        return service;
    }

    private static YamlSequenceNode Sequence(IEnumerable<YamlNode> items) => new(items);

    private static YamlSequenceNode Sequence(IEnumerable<string> items) => new(items.Select(i => (YamlNode)Quoted(i)));

    private static YamlScalarNode Quoted(string value) => new(value) { Style = ScalarStyle.DoubleQuoted };
}
