// https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/data-sources/host
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface DataOrbitHostConfig extends cdktf.TerraformMetaArguments {
  /**
  * A host configured in the provider "orbit" block (hosts { name = ... }).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/data-sources/host#name DataOrbitHost#name}
  */
  readonly name: string;
  /**
  * The QEMU system emulator to inspect: a command on the host's PATH or an absolute path. Default: the host's qemu_binary in the provider block.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/data-sources/host#qemu_binary DataOrbitHost#qemu_binary}
  */
  readonly qemuBinary?: string;
}

/**
* Represents a {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/data-sources/host orbit_host}
*/
export class DataOrbitHost extends cdktf.TerraformDataSource {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "orbit_host";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a DataOrbitHost resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the DataOrbitHost to import
  * @param importFromId The id of the existing DataOrbitHost that should be imported. Refer to the {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/data-sources/host#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the DataOrbitHost to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "orbit_host", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/data-sources/host orbit_host} Data Source
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options DataOrbitHostConfig
  */
  public constructor(scope: Construct, id: string, config: DataOrbitHostConfig) {
    super(scope, id, {
      terraformResourceType: 'orbit_host',
      terraformGeneratorMetadata: {
        providerName: 'orbit',
        providerVersion: '0.1.0'
      },
      provider: config.provider,
      dependsOn: config.dependsOn,
      count: config.count,
      lifecycle: config.lifecycle,
      provisioners: config.provisioners,
      connection: config.connection,
      forEach: config.forEach
    });
    this._name = config.name;
    this._qemuBinary = config.qemuBinary;
  }

  // ==========
  // ATTRIBUTES
  // ==========

  // accelerator - computed: true, optional: false, required: false
  public get accelerator() {
    return this.getStringAttribute('accelerator');
  }

  // accelerator_reason - computed: true, optional: false, required: false
  public get acceleratorReason() {
    return this.getStringAttribute('accelerator_reason');
  }

  // colo_capable - computed: true, optional: false, required: false
  public get coloCapable() {
    return this.getBooleanAttribute('colo_capable');
  }

  // cpus - computed: true, optional: false, required: false
  public get cpus() {
    return this.getNumberAttribute('cpus');
  }

  // hostname - computed: true, optional: false, required: false
  public get hostname() {
    return this.getStringAttribute('hostname');
  }

  // kernel - computed: true, optional: false, required: false
  public get kernel() {
    return this.getStringAttribute('kernel');
  }

  // memory_mib - computed: true, optional: false, required: false
  public get memoryMib() {
    return this.getNumberAttribute('memory_mib');
  }

  // name - computed: false, optional: false, required: true
  private _name?: string; 
  public get name() {
    return this.getStringAttribute('name');
  }
  public set name(value: string) {
    this._name = value;
  }
  // Temporarily expose input value. Use with caution.
  public get nameInput() {
    return this._name;
  }

  // qemu_binary - computed: true, optional: true, required: false
  private _qemuBinary?: string; 
  public get qemuBinary() {
    return this.getStringAttribute('qemu_binary');
  }
  public set qemuBinary(value: string) {
    this._qemuBinary = value;
  }
  public resetQemuBinary() {
    this._qemuBinary = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get qemuBinaryInput() {
    return this._qemuBinary;
  }

  // qemu_version - computed: true, optional: false, required: false
  public get qemuVersion() {
    return this.getStringAttribute('qemu_version');
  }

  // =========
  // SYNTHESIS
  // =========

  protected synthesizeAttributes(): { [name: string]: any } {
    return {
      name: cdktf.stringToTerraform(this._name),
      qemu_binary: cdktf.stringToTerraform(this._qemuBinary),
    };
  }

  protected synthesizeHclAttributes(): { [name: string]: any } {
    const attrs = {
      name: {
        value: cdktf.stringToHclTerraform(this._name),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      qemu_binary: {
        value: cdktf.stringToHclTerraform(this._qemuBinary),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}
