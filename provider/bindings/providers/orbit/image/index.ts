// https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/image
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface ImageConfig extends cdktf.TerraformMetaArguments {
  /**
  * The hosts to place the image on (names from the provider's hosts blocks). Added hosts get it on the next apply; a removed host loses it, unless disks there are backed by it (refused).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/image#hosts Image#hosts}
  */
  readonly hosts: string[];
  /**
  * What the image is called (a link /var/lib/orbit/images/by-name/<name> on each host). A rename changes in place.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/image#name Image#name}
  */
  readonly name: string;
  /**
  * The SHA-256 of the image file, 64 lowercase hex digits (sha256sum prints it). Checked before any host gets the image and on every host after. A change is a new image (replacement).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/image#sha256 Image#sha256}
  */
  readonly sha256: string;
  /**
  * A file on the machine terraform runs on (absolute, or relative to terraform's working directory) or an http(s) URL. URLs are downloaded once into a local cache ($ORBIT_IMAGE_CACHE, else ~/.cache/orbit/images) and streamed to the hosts from there, so hosts need no route to the URL. A new source with the same sha256 changes nothing.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/image#source Image#source}
  */
  readonly source: string;
}

/**
* Represents a {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/image orbit_image}
*/
export class Image extends cdktf.TerraformResource {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "orbit_image";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a Image resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the Image to import
  * @param importFromId The id of the existing Image that should be imported. Refer to the {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/image#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the Image to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "orbit_image", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/image orbit_image} Resource
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options ImageConfig
  */
  public constructor(scope: Construct, id: string, config: ImageConfig) {
    super(scope, id, {
      terraformResourceType: 'orbit_image',
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
    this._hosts = config.hosts;
    this._name = config.name;
    this._sha256 = config.sha256;
    this._source = config.source;
  }

  // ==========
  // ATTRIBUTES
  // ==========

  // format - computed: true, optional: false, required: false
  public get format() {
    return this.getStringAttribute('format');
  }

  // hosts - computed: false, optional: false, required: true
  private _hosts?: string[]; 
  public get hosts() {
    return this.getListAttribute('hosts');
  }
  public set hosts(value: string[]) {
    this._hosts = value;
  }
  // Temporarily expose input value. Use with caution.
  public get hostsInput() {
    return this._hosts;
  }

  // id - computed: true, optional: false, required: false
  public get id() {
    return this.getStringAttribute('id');
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

  // path - computed: true, optional: false, required: false
  public get path() {
    return this.getStringAttribute('path');
  }

  // sha256 - computed: false, optional: false, required: true
  private _sha256?: string; 
  public get sha256() {
    return this.getStringAttribute('sha256');
  }
  public set sha256(value: string) {
    this._sha256 = value;
  }
  // Temporarily expose input value. Use with caution.
  public get sha256Input() {
    return this._sha256;
  }

  // size_bytes - computed: true, optional: false, required: false
  public get sizeBytes() {
    return this.getNumberAttribute('size_bytes');
  }

  // source - computed: false, optional: false, required: true
  private _source?: string; 
  public get source() {
    return this.getStringAttribute('source');
  }
  public set source(value: string) {
    this._source = value;
  }
  // Temporarily expose input value. Use with caution.
  public get sourceInput() {
    return this._source;
  }

  // virtual_size_mib - computed: true, optional: false, required: false
  public get virtualSizeMib() {
    return this.getNumberAttribute('virtual_size_mib');
  }

  // =========
  // SYNTHESIS
  // =========

  protected synthesizeAttributes(): { [name: string]: any } {
    return {
      hosts: cdktf.listMapper(cdktf.stringToTerraform, false)(this._hosts),
      name: cdktf.stringToTerraform(this._name),
      sha256: cdktf.stringToTerraform(this._sha256),
      source: cdktf.stringToTerraform(this._source),
    };
  }

  protected synthesizeHclAttributes(): { [name: string]: any } {
    const attrs = {
      hosts: {
        value: cdktf.listMapperHcl(cdktf.stringToHclTerraform, false)(this._hosts),
        isBlock: false,
        type: "list",
        storageClassType: "stringList",
      },
      name: {
        value: cdktf.stringToHclTerraform(this._name),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      sha256: {
        value: cdktf.stringToHclTerraform(this._sha256),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      source: {
        value: cdktf.stringToHclTerraform(this._source),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}
