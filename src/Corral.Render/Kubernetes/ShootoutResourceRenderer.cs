using k8s.Models;

namespace Corral.Render.Kubernetes;

/// <summary>
/// The CustomResourceDefinition of the original 001's <c>Shootout</c> kind (group <c>example.com</c>, version
/// <c>v1alpha1</c>, <c>spec.cowboys</c> a JSON string), so the resource itself can be applied beside what it becomes.
/// </summary>
internal static class ShootoutResourceRenderer
{
    public static V1CustomResourceDefinition Definition(string group, string version) => new()
    {
        ApiVersion = "apiextensions.k8s.io/v1",
        Kind = "CustomResourceDefinition",
        Metadata = new V1ObjectMeta { Name = $"shootouts.{group}" },
        Spec = new V1CustomResourceDefinitionSpec
        {
            Group = group,
            Scope = "Namespaced",
            Names = new V1CustomResourceDefinitionNames { Kind = "Shootout", ListKind = "ShootoutList", Plural = "shootouts", Singular = "shootout" },
            Versions =
            [
                new V1CustomResourceDefinitionVersion
                {
                    Name = version,
                    Served = true,
                    Storage = true,
                    Schema = new V1CustomResourceValidation
                    {
                        OpenAPIV3Schema = new V1JSONSchemaProps
                        {
                            Type = "object",
                            Required = ["spec"],
                            Properties = new Dictionary<string, V1JSONSchemaProps>
                            {
                                ["spec"] = new()
                                {
                                    Type = "object",
                                    Required = ["cowboys"],
                                    Properties = new Dictionary<string, V1JSONSchemaProps>
                                    {
                                        ["cowboys"] = new() { Type = "string", Description = "The cowboys as a JSON array of {name, health, damage}." },
                                    },
                                },
                            },
                        },
                    },
                },
            ],
        },
    };
}
