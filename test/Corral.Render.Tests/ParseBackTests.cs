using System.Diagnostics;
using System.Text.Json.Nodes;
using Corral.Render.Compose;
using Corral.Render.Kubernetes;
using k8s;
using k8s.Models;
using YamlDotNet.RepresentationModel;

namespace Corral.Render.Tests;

/// <summary>The rendered YAML read back into the client's typed models, and by the tools people run it with.</summary>
public sealed class ParseBackTests
{
    [Fact]
    public void Server_mode_shootout_reads_back_as_typed_objects_with_mounts_and_probes()
    {
        var objects = Load(KubernetesRenderer.Yaml(Rendering.Input("shootout.yaml")));

        var supervisor = Assert.IsType<V1Deployment>(objects.Single(o => o is V1Deployment { Metadata.Name: "corral-supervisor" }));
        Assert.Contains("external", supervisor.Spec.Template.Spec.Containers[0].Args);
        Assert.Single(objects.OfType<V1Service>(), s => s.Name() == "corral-supervisor" && s.Spec.Ports.Any(p => p.Port == 7999));
        Assert.Single(objects.OfType<V1ConfigMap>(), c => c.Data.ContainsKey("shootout.yaml"));
        Assert.Equal(["cowboy-1", "cowboy-2", "cowboy-3", "cowboy-4", "cowboy-5", "server", "supervisor.key"],
            Assert.Single(objects.OfType<V1Secret>()).StringData.Keys.Order(StringComparer.Ordinal));

        // A finite app's nodes are jobs; each mounts only its own credential and probes the node's endpoints.
        var jobs = objects.OfType<V1Job>().ToDictionary(j => j.Name());
        Assert.Equal(["cowboy-1", "cowboy-2", "cowboy-3", "cowboy-4", "cowboy-5", "server"], jobs.Keys.Order(StringComparer.Ordinal));
        var cowboy = jobs["cowboy-3"].Spec.Template.Spec;
        var container = Assert.Single(cowboy.Containers);
        Assert.Equal("corral:0.1.0", container.Image);
        Assert.Equal(["node", "shootout.cowboy", "--id", "cowboy-3", "--join", "http://corral-supervisor:7999"], container.Args.Take(6));
        Assert.Equal("/run/corral/credentials", Assert.Single(container.VolumeMounts).MountPath);
        var item = Assert.Single(Assert.Single(cowboy.Volumes).Secret.Items);
        Assert.Equal(("cowboy-3", 256), (item.Key, item.Mode!.Value));
        Assert.Equal("/readyz", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("8102", container.ReadinessProbe.HttpGet.Port.Value);
        // The node listens where its probes and Service look, not on a port picked at start.
        Assert.Equal(["--port", "http=8102"], container.Args.Skip(container.Args.IndexOf("--port")).Take(2));
        Assert.Equal("/healthz", container.LivenessProbe.HttpGet.Path);
    }

    [Fact]
    public void Shootout_resource_renders_its_definition_and_peer_mode_stores_as_stateful_sets()
    {
        var yaml = KubernetesRenderer.Yaml(Rendering.Input("originals/shootout-001-shootout.yaml"));
        var objects = Load(yaml);

        var definition = Assert.IsType<V1CustomResourceDefinition>(objects[0]);
        Assert.Equal(("shootouts.example.com", "Shootout", "v1alpha1"), (definition.Name(), definition.Spec.Names.Kind, definition.Spec.Versions[0].Name));
        Assert.Contains(objects, o => o.Kind == "StatefulSet" && ((V1StatefulSet)o).Spec.VolumeClaimTemplates[0].Name() == "data");
        Assert.EndsWith("kind: Shootout\nmetadata:\n  name: full\n", yaml[..(yaml.IndexOf("spec:\n  cowboys", StringComparison.Ordinal))]);
    }

    [RequiresToolTheory("/usr/bin/kubectl")]
    [MemberData(nameof(Rendering.Topologies), MemberType = typeof(Rendering))]
    public void Kubectl_decodes_every_rendered_object(string topology)
    {
        // `apply --dry-run=client` still asks a server for the API groups; `label --local` decodes the same files
        // into kubectl's typed objects without one, and fails on any object it cannot read.
        var file = WriteTemp(KubernetesRenderer.Yaml(Rendering.Input(topology)), ".yaml");
        var (exit, output) = Run("/usr/bin/kubectl", "label", "--local", "-f", file, "corral.dev/checked=yes", "-o", "name");
        Assert.True(exit == 0, output);
        Assert.Contains("deployment.apps/corral-supervisor", output);
    }

    [RequiresToolTheory("/usr/bin/docker-compose")]
    [MemberData(nameof(Rendering.Topologies), MemberType = typeof(Rendering))]
    public void Docker_compose_accepts_every_rendered_compose_file(string topology)
    {
        var folder = Directory.CreateTempSubdirectory("corral-compose-").FullName;
        try
        {
            foreach (var (name, content) in ComposeRenderer.Files(Rendering.Input(topology)))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(folder, name))!);
                File.WriteAllText(Path.Combine(folder, name), content);
            }

            var (exit, output) = Run("/usr/bin/docker-compose", "-f", Path.Combine(folder, ComposeRenderer.ComposeFile), "config", "-q");
            Assert.True(exit == 0, output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Each YAML document as JSON, then into the model its kind names (the Aot client's own deserializer).</summary>
    private static List<IKubernetesObject> Load(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var objects = new List<IKubernetesObject>();
        foreach (var document in stream.Documents)
        {
            var json = ToJson(document.RootNode)!.ToJsonString();
            var kind = ((YamlMappingNode)document.RootNode).Children[new YamlScalarNode("kind")].ToString();
            objects.Add(kind switch
            {
                "ConfigMap" => KubernetesJson.Deserialize<V1ConfigMap>(json),
                "Secret" => KubernetesJson.Deserialize<V1Secret>(json),
                "Service" => KubernetesJson.Deserialize<V1Service>(json),
                "Deployment" => KubernetesJson.Deserialize<V1Deployment>(json),
                "StatefulSet" => KubernetesJson.Deserialize<V1StatefulSet>(json),
                "Job" => KubernetesJson.Deserialize<V1Job>(json),
                "CustomResourceDefinition" => KubernetesJson.Deserialize<V1CustomResourceDefinition>(json),
                _ => new KubernetesObject { Kind = kind },
            });
        }

        return objects;
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(c.Key.ToString(), ToJson(c.Value)))),
        YamlSequenceNode list => new JsonArray(list.Children.Select(ToJson).ToArray()),
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } plain when plain.Value == "null" => null,
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } plain when long.TryParse(plain.Value, out var n) => JsonValue.Create(n),
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } plain when plain.Value is "true" or "false" => JsonValue.Create(plain.Value == "true"),
        YamlScalarNode scalar => JsonValue.Create(scalar.Value),
        _ => throw new InvalidOperationException($"unexpected YAML node {node}"),
    };

    private static string WriteTemp(string text, string extension)
    {
        var path = Path.Combine(Path.GetTempPath(), $"corral-render-{Guid.NewGuid():N}{extension}");
        File.WriteAllText(path, text);
        return path;
    }

    private static (int Exit, string Output) Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} did not finish within 60 s");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
